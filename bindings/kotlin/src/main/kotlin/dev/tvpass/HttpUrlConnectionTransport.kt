package dev.tvpass

import kotlinx.coroutines.Dispatchers
import kotlinx.coroutines.InternalCoroutinesApi
import kotlinx.coroutines.Job
import kotlinx.coroutines.currentCoroutineContext
import kotlinx.coroutines.withContext
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
    @OptIn(InternalCoroutinesApi::class)
    override suspend fun send(request: HttpRequest): HttpResponse {
        val connection = URL(request.url()).openConnection() as HttpURLConnection
        // Cancellation (the coroutine, or Rust dropping the call) disconnects: the blocked read
        // ends at once.
        val watch = currentCoroutineContext()[Job]?.invokeOnCompletion(onCancelling = true, invokeImmediately = true) {
            if (it != null) connection.disconnect()
        }
        try {
            // The SDK calls from Dispatchers.Default, whose threads Dispatchers.IO shares: no
            // thread switch, but blocking is allowed.
            return withContext(Dispatchers.IO) { exchange(connection, request) }
        } finally {
            watch?.dispose()
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
            val headers = ArrayList<HttpHeader>(12)
            var i = 1 // field 0 is the status line
            while (true) {
                val name = connection.getHeaderFieldKey(i) ?: break
                headers.add(HttpHeader(name.lowercase(), connection.getHeaderField(i) ?: ""))
                i++
            }
            // The streams are closed, not the connection: it goes back to the keep-alive pool.
            return HttpResponse(status.toUShort(), headers, bytes)
        } catch (e: HttpException) {
            connection.disconnect()
            throw e
        } catch (e: SocketTimeoutException) {
            connection.disconnect()
            throw HttpException.Timeout()
        } catch (e: ConnectException) {
            connection.disconnect()
            throw HttpException.Connect("connection refused")
        } catch (e: UnknownHostException) {
            connection.disconnect()
            throw HttpException.Connect("unknown host")
        } catch (e: SSLException) {
            connection.disconnect()
            throw HttpException.Connect("TLS failed: ${e.javaClass.simpleName}")
        } catch (e: IOException) {
            connection.disconnect()
            throw HttpException.Connect("the exchange broke off: ${e.javaClass.simpleName}")
        } catch (e: Exception) {
            connection.disconnect()
            throw HttpException.Other(e.javaClass.simpleName)
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
