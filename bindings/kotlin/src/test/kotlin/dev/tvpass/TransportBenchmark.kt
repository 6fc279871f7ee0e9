package dev.tvpass

import kotlinx.coroutines.Dispatchers
import kotlinx.coroutines.runBlocking
import kotlinx.coroutines.withContext
import java.net.HttpURLConnection
import java.net.URL
import kotlin.test.Test
import kotlin.test.assertIs
import kotlin.test.assertTrue

/** Times each exchange of the wrapped transport. */
class TimedTransport(private val inner: BlockingHttpTransport) : BlockingHttpTransport {
    val times = java.util.concurrent.ConcurrentLinkedQueue<Long>()
    override fun send(request: HttpRequest): HttpResponse {
        val t = System.nanoTime()
        try {
            return inner.send(request)
        } finally {
            times.add(System.nanoTime() - t)
        }
    }
}

/**
 * Authorize through the SDK with the host transport (HttpUrlConnectionTransport) against the
 * same request sent by Kotlin directly with HttpURLConnection as an app sends it: from a
 * coroutine, off the caller's thread with `withContext(Dispatchers.IO)` (Android refuses network
 * on the main thread). Also printed: the direct call blocking the caller's thread, and the SDK's
 * built-in transport. Interleaved in one run; medians compared. Runs only with -Dtvpass.bench=true
 * (bench-transport.sh); prints the figures.
 */
class TransportBenchmark {
    private val calls = (System.getProperty("tvpass.bench.calls") ?: "1000").toInt()

    private fun direct(base: String, token: String, deviceId: String, deviceInfo: String): Boolean {
        val c = URL("$base/api/v2/REF30/decisions/authorize/Cablevision").openConnection() as HttpURLConnection
        c.requestMethod = "POST"
        c.instanceFollowRedirects = false
        c.useCaches = false
        // A careful client sets timeouts, as the SDK does.
        c.connectTimeout = 10_000
        c.readTimeout = 10_000
        c.setRequestProperty("authorization", "Bearer $token")
        c.setRequestProperty("ap-device-identifier", "fingerprint " + java.util.Base64.getEncoder().encodeToString(deviceId.toByteArray()))
        c.setRequestProperty("x-device-info", deviceInfo)
        c.setRequestProperty("accept", "application/json")
        c.setRequestProperty("content-type", "application/json")
        val body = "{\"resources\":[\"news\"]}".toByteArray()
        c.doOutput = true
        c.setFixedLengthStreamingMode(body.size)
        c.outputStream.use { it.write(body) }
        check(c.responseCode == 200)
        val text = c.inputStream.use { it.readBytes() }.decodeToString()
        return text.contains("\"authorized\":true")
    }

    private fun client(storage: MapStorage, transport: BlockingHttpTransport?) = PassClient(
        ClientConfig(
            baseUrl = Emulator.base,
            serviceProvider = "REF30",
            softwareStatement = Redacted("tvpass-emulator-software-statement"),
            deviceInfo = DeviceInfo(primaryHardwareType = "SetTopBox", osName = "Android"),
            deviceId = Redacted("bench-device"),
            paceRequests = false,
        ),
        storage,
        blockingTransport = transport,
    )

    private fun median(xs: List<Long>) = xs.sorted()[xs.size / 2] / 1000.0

    @Test
    fun authorizeThroughTheHostTransportAgainstDirectCalls() = runBlocking<Unit> {
        if (System.getProperty("tvpass.bench") != "true") return@runBlocking
        Emulator.reset()
        val storage = MapStorage()
        val timed = TimedTransport(HttpUrlConnectionTransport())
        val host = client(storage, timed)
        val builtIn = client(storage, null) // same storage: same client, token and profile
        val session = host.createSession("Cablevision")
        Emulator.complete(session.code ?: error("a code"))
        host.awaitProfile(session)
        val token = storage.values.entries.first { it.key.endsWith(".token") }.value
            .let { Regex("\"access_token\":\"([^\"]+)\"").find(it)!!.groupValues[1] }
        val deviceInfo = java.util.Base64.getEncoder()
            .encodeToString("{\"primaryHardwareType\":\"SetTopBox\",\"osName\":\"Android\"}".toByteArray())
        repeat(200) {
            assertIs<Decision.Permit>(host.authorize("Cablevision", "news"))
            assertIs<Decision.Permit>(builtIn.authorize("Cablevision", "news"))
            assertTrue(direct(Emulator.base, token, "bench-device", deviceInfo))
        }
        timed.times.clear()
        val viaHost = ArrayList<Long>(calls)
        val viaBuiltIn = ArrayList<Long>(calls)
        val bare = ArrayList<Long>(calls)
        val blocking = ArrayList<Long>(calls)
        for (i in 0 until calls) {
            var t = System.nanoTime()
            assertIs<Decision.Permit>(host.authorize("Cablevision", "news"))
            viaHost.add(System.nanoTime() - t)
            t = System.nanoTime()
            assertTrue(withContext(Dispatchers.IO) { direct(Emulator.base, token, "bench-device", deviceInfo) })
            bare.add(System.nanoTime() - t)
            t = System.nanoTime()
            assertTrue(direct(Emulator.base, token, "bench-device", deviceInfo))
            blocking.add(System.nanoTime() - t)
            t = System.nanoTime()
            assertIs<Decision.Permit>(builtIn.authorize("Cablevision", "news"))
            viaBuiltIn.add(System.nanoTime() - t)
        }
        val a = median(viaHost)
        val b = median(bare)
        println(
            "foreign transport: authorize median %.0f us through the SDK with HttpUrlConnectionTransport vs %.0f us with HttpURLConnection directly (withContext(Dispatchers.IO)): ratio %.3f (target <= 1.15; %d calls each, interleaved)"
                .format(a, b, a / b, calls)
        )
        println(
            "foreign transport: of which %.0f us inside the host transport; the direct call blocking the caller's thread: %.0f us; the SDK's built-in transport from Kotlin: %.0f us"
                .format(median(timed.times.toList()), median(blocking), median(viaBuiltIn))
        )
    }
}
