package dev.tvpass

// Test fixtures shared by the JVM suite (../../test) and the Android library's Robolectric suite
// (android/src/test): a map-backed Storage and the emulator's admin API.

import java.net.URI
import java.net.http.HttpClient
import java.net.http.HttpRequest
import java.net.http.HttpResponse
import java.util.concurrent.ConcurrentHashMap

/** A Storage kept in a map, as an app would keep it in the Keychain or KeystoreStorage. */
class MapStorage : Storage {
    val values = ConcurrentHashMap<String, String>()
    override fun get(key: String): String? = values[key]
    override fun set(key: String, value: String) { values[key] = value }
    override fun remove(key: String) { values.remove(key) }
}

/** The emulator's admin API. */
object Emulator {
    val base: String = System.getProperty("tvpass.emulator")?.takeIf { it.isNotEmpty() }
        ?: error("set -Dtvpass.emulator to the emulator's base URL")
    private val http = HttpClient.newHttpClient()

    private fun send(method: String, path: String, body: String = ""): String {
        val req = HttpRequest.newBuilder(URI.create(base + path))
            .method(method, HttpRequest.BodyPublishers.ofString(body))
            .header("content-type", "application/json")
            .build()
        val res = http.send(req, HttpResponse.BodyHandlers.ofString())
        check(res.statusCode() < 300) { "admin $path answered ${res.statusCode()}" }
        return res.body()
    }

    fun reset() { send("POST", "/__emulator/reset") }
    fun complete(code: String) { send("POST", "/__emulator/sessions/$code/complete", "{\"attributes\": {\"zip\": \"10001\"}}") }
    fun advanceSeconds(s: Long) { send("POST", "/__emulator/clock/advance", "{\"seconds\": $s}") }
    /** Sets the emulator's clock `ms` from real time: the service as a device whose clock is off by `-ms` sees it. */
    fun skewClock(ms: Long) { send("PUT", "/__emulator/clock/skew", "{\"ms\": $ms}") }
    fun requests(): String = send("GET", "/__emulator/requests")
    /** Holds the next decision answer for `ms` milliseconds. */
    fun delayDecisions(ms: Int) {
        send("POST", "/__emulator/faults", "{\"path\": \"/api/v2/REF30/decisions\", \"fault\": {\"kind\": \"delay\", \"ms\": $ms}, \"remaining\": 1}")
    }
    /** Answers the next decision with the enhanced error `code` at top level (its status, e.g. 403). */
    fun topLevelDecisionError(code: String) {
        send("POST", "/__emulator/faults", "{\"path\": \"/api/v2/REF30/decisions\", \"fault\": {\"kind\": \"top_level_error\", \"code\": \"$code\"}, \"remaining\": 1}")
    }
    fun count(prefix: String): Int =
        Regex("\"path\":\"([^\"]*)\"").findAll(send("GET", "/__emulator/requests")).count { it.groupValues[1].startsWith(prefix) }
}
