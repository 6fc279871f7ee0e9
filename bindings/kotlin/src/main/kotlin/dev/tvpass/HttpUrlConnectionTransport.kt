package dev.tvpass

import kotlinx.coroutines.CancellationException
import kotlinx.coroutines.Dispatchers
import kotlinx.coroutines.async
import kotlinx.coroutines.coroutineScope
import java.io.ByteArrayOutputStream
import java.io.IOException
import java.io.InputStream
import java.net.ConnectException
import java.net.HttpURLConnection
import java.net.SocketTimeoutException
import java.net.URL
import java.net.UnknownHostException
import javax.net.ssl.SSLException

/**
 * The SDK's requests sent with the platform's own HTTP stack, `HttpURLConnection`: on Android
 * it honours the system proxy, VPN, Network Security Config (pinning, cleartext policy) and
 * shows up in the platform's network tools; it needs no extra dependency. Pacing, retries,
 * deadlines and error decoding stay in the SDK.
 *
 * ```kotlin
 * val client = PassClient(config, EncryptedPreferencesStorage(context), HttpUrlConnectionTransport())
 * ```
 *
 * Redirects are not followed; cancelling the calling coroutine disconnects the request.
 */
class HttpUrlConnectionTransport : HttpTransport {
    override suspend fun send(request: HttpRequest): HttpResponse = coroutineScope {
        val connection = URL(request.url()).openConnection() as HttpURLConnection
        val exchange = async(Dispatchers.IO) { exchange(connection, request) }
        try {
            exchange.await()
        } catch (e: CancellationException) {
            connection.disconnect() // ends the blocked read at once
            throw e
        }
    }

    private fun exchange(connection: HttpURLConnection, request: HttpRequest): HttpResponse {
        val timeout = request.timeoutMs().coerceIn(1UL, Int.MAX_VALUE.toULong()).toInt()
        try {
            connection.requestMethod = request.method()
            connection.instanceFollowRedirects = false
            connection.useCaches = false
            connection.connectTimeout = timeout
            connection.readTimeout = timeout
            for (h in request.headers()) connection.addRequestProperty(h.name, h.value)
            val body = request.body()
            if (body != null) {
                connection.doOutput = true
                connection.setFixedLengthStreamingMode(body.size)
                connection.outputStream.use { it.write(body) }
            }
            val status = connection.responseCode
            val max = request.maxResponseBytes().toLong()
            if (connection.contentLengthLong > max) throw HttpException.TooLarge()
            val bytes = (if (status >= 400) connection.errorStream else connection.inputStream)
                ?.use { read(it, max) } ?: ByteArray(0)
            val headers = connection.headerFields.flatMap { (name, values) ->
                if (name == null) emptyList() else values.map { HttpHeader(name.lowercase(), it) }
            }
            return HttpResponse(status.toUShort(), headers, bytes)
        } catch (e: HttpException) {
            throw e
        } catch (e: SocketTimeoutException) {
            throw HttpException.Timeout()
        } catch (e: ConnectException) {
            throw HttpException.Connect("connection refused")
        } catch (e: UnknownHostException) {
            throw HttpException.Connect("unknown host")
        } catch (e: SSLException) {
            throw HttpException.Connect("TLS failed: ${e.javaClass.simpleName}")
        } catch (e: IOException) {
            throw HttpException.Connect("the exchange broke off: ${e.javaClass.simpleName}")
        } catch (e: Exception) {
            throw HttpException.Other(e.javaClass.simpleName)
        } finally {
            connection.disconnect()
        }
    }

    private fun read(input: InputStream, max: Long): ByteArray {
        val out = ByteArrayOutputStream()
        val buffer = ByteArray(16 * 1024)
        while (true) {
            val n = input.read(buffer)
            if (n < 0) break
            if (out.size() + n > max) throw HttpException.TooLarge()
            out.write(buffer, 0, n)
        }
        return out.toByteArray()
    }
}
