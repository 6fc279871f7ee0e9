package dev.tvpass

import com.sun.jna.Native
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
 * val client = PassClient(config, KeystoreStorage(context),
 *     blockingTransport = HttpUrlConnectionTransport())
 * ```
 *
 * A blocking transport: the SDK calls it on one of its own threads, never the app's, so no
 * coroutine dispatch is needed. Redirects are not followed; when the SDK abandons a request (its
 * coroutine was cancelled) the connection is disconnected at once.
 */
class HttpUrlConnectionTransport : BlockingHttpTransport {
    override fun send(request: HttpRequest): HttpResponse {
        // The SDK's threads call in again and again: stay attached to the JVM between calls.
        Native.detach(false)
        val parts = request.parts() // one crossing of the FFI for everything
        val connection = URL(parts.url).openConnection() as HttpURLConnection
        request.onCancel(object : CancelHook {
            override fun cancel() = connection.disconnect()
        })
        try {
            return exchange(connection, parts)
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

    private fun exchange(connection: HttpURLConnection, parts: HttpRequestParts): HttpResponse {
        val timeout = parts.timeoutMs.coerceIn(1UL, Int.MAX_VALUE.toULong()).toInt()
        connection.requestMethod = parts.method
        connection.instanceFollowRedirects = false
        connection.useCaches = false
        connection.connectTimeout = timeout
        connection.readTimeout = timeout
        // `name: value` lines separated by CRLF.
        val block = parts.headerBlock.decodeToString()
        var start = 0
        while (start < block.length) {
            val end = block.indexOf("\r\n", start).let { if (it < 0) block.length else it }
            val colon = block.indexOf(": ", start)
            if (colon in start until end) {
                connection.addRequestProperty(block.substring(start, colon), block.substring(colon + 2, end))
            }
            start = end + 2
        }
        val body = parts.body
        if (body != null) {
            connection.doOutput = true
            connection.setFixedLengthStreamingMode(body.size)
            connection.outputStream.use { it.write(body) }
        }
        val status = connection.responseCode
        val max = parts.maxResponseBytes.toLong()
        // The header itself: getContentLengthLong() needs API 24 and the library supports 23.
        val declared = connection.getHeaderField("Content-Length")?.trim()?.toLongOrNull() ?: -1L
        if (declared > max) throw HttpException.TooLarge()
        val bytes = (if (status >= 400) connection.errorStream else connection.inputStream)
            ?.use { read(it, max) } ?: ByteArray(0)
        val headers = ArrayList<HttpHeader>(12)
        var i = 1 // field 0 is the status line
        while (true) {
            val name = connection.getHeaderFieldKey(i) ?: break
            headers.add(HttpHeader(name.lowercase(), Redacted(connection.getHeaderField(i) ?: "")))
            i++
        }
        // The streams are closed, not the connection: it goes back to the keep-alive pool.
        return HttpResponse(status.toUShort(), headers, bytes)
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
