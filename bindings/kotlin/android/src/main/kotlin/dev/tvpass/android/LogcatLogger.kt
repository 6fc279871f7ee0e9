package dev.tvpass.android

import android.util.Log
import dev.tvpass.LogLevel
import dev.tvpass.Logger
import dev.tvpass.setLogger

/**
 * The SDK's log lines in Logcat, under the tag `tvpass` (the SDK never logs a secret).
 *
 * ```kotlin
 * LogcatLogger.install(LogLevel.INFO)
 * ```
 */
class LogcatLogger(private val tag: String = "tvpass") : Logger {
    override fun log(level: LogLevel, target: String, message: String) {
        val line = "$target: $message"
        when (level) {
            LogLevel.ERROR -> Log.e(tag, line)
            LogLevel.WARN -> Log.w(tag, line)
            LogLevel.INFO -> Log.i(tag, line)
            LogLevel.DEBUG -> Log.d(tag, line)
            LogLevel.TRACE -> Log.v(tag, line)
        }
    }

    companion object {
        /** Sends the SDK's lines at `level` and above to Logcat. */
        fun install(level: LogLevel = LogLevel.INFO, tag: String = "tvpass") =
            setLogger(LogcatLogger(tag), level)
    }
}
