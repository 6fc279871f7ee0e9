package dev.tvpass.android

import android.content.Context
import android.util.Log
import dev.tvpass.ClientConfig
import dev.tvpass.Decision
import dev.tvpass.DenyReason
import dev.tvpass.DeviceInfo
import dev.tvpass.Emulator
import dev.tvpass.HttpUrlConnectionTransport
import dev.tvpass.LogLevel
import dev.tvpass.LogoutAction
import dev.tvpass.MapStorage
import dev.tvpass.PassClient
import dev.tvpass.Redacted
import dev.tvpass.setLogger
import kotlinx.coroutines.runBlocking
import org.junit.Test
import org.junit.runner.RunWith
import org.robolectric.RobolectricTestRunner
import org.robolectric.RuntimeEnvironment
import org.robolectric.annotation.Config
import org.robolectric.shadows.ShadowLog
import kotlin.test.assertEquals
import kotlin.test.assertIs
import kotlin.test.assertNotNull
import kotlin.test.assertTrue

/** The Android library as an app uses it: a Context, KeystoreStorage, HttpURLConnection, Logcat. */
@RunWith(RobolectricTestRunner::class)
@Config(sdk = [34], manifest = Config.NONE)
class AndroidJourneyTest {
    private val context: Context = RuntimeEnvironment.getApplication()

    private fun config() = ClientConfig(
        baseUrl = Emulator.base,
        serviceProvider = "REF30",
        softwareStatement = Redacted("tvpass-emulator-software-statement"),
        deviceInfo = DeviceInfo(primaryHardwareType = "TV", osName = "Android"),
        paceRequests = false,
    )

    private fun client(storage: dev.tvpass.Storage) =
        PassClient(config(), storage, blockingTransport = HttpUrlConnectionTransport())

    @Test
    fun registerLoginAuthorizeLogoutOnKeystoreStorageThenAWarmRestart() = runBlocking<Unit> {
        Emulator.reset()
        val keys = SoftwareKeySource()
        val first = client(KeystoreStorage(context, "journey", keys))
        val session = first.createSession("Cablevision")
        Emulator.complete(assertNotNull(session.code))
        assertEquals("Cablevision", first.awaitProfile(session).mvpd)
        assertIs<Decision.Permit>(first.authorize("Cablevision", "news"))

        val onDisk = context.getSharedPreferences("journey", Context.MODE_PRIVATE).all
        assertTrue(onDisk.size >= 3, "credentials, token, profile and device id are kept: ${onDisk.keys}")
        for ((name, value) in onDisk) {
            assertTrue((value as String).startsWith("v1:"), "$name is sealed")
            assertTrue(!value.contains("access_token") && !value.contains("client_secret"), "$name is not clear text")
        }

        // The app restarts: a new client on the same file starts warm.
        val before = Emulator.count("/")
        val second = client(KeystoreStorage(context, "journey", keys))
        assertIs<Decision.Permit>(second.authorize("Cablevision", "news"))
        assertEquals(1, Emulator.count("/") - before, "a warm start needs 1 request to authorize")
        assertEquals(1, Emulator.count("/o/client/register"), "registered once for both")

        assertIs<LogoutAction.OpenUrl>(second.logout("Cablevision"))
        val after = second.authorize("Cablevision", "news")
        assertIs<Decision.Deny>(after)
        assertEquals(DenyReason.ProfileMissing, after.reason)
    }

    @Test
    fun aRestoredFileFromAnotherDeviceMakesTheSdkRegisterAgain() = runBlocking<Unit> {
        Emulator.reset()
        val first = client(KeystoreStorage(context, "restored", SoftwareKeySource()))
        first.configuration()
        assertEquals(1, Emulator.count("/o/client/register"))
        // The same file under another key (a backup restored onto a new device): nothing readable.
        val restored = client(KeystoreStorage(context, "restored", SoftwareKeySource()))
        assertEquals(listOf("Cablevision", "Spectrum"), restored.configuration().pickerMvpds.map { it.id })
        assertEquals(2, Emulator.count("/o/client/register"), "registered again instead of failing")
    }

    @Test
    fun logcatLoggerWritesEachLevelAtItsPriorityAndTheSdkLogsNoSecret() = runBlocking<Unit> {
        ShadowLog.clear()
        val logger = LogcatLogger()
        val levels = mapOf(
            LogLevel.ERROR to Log.ERROR, LogLevel.WARN to Log.WARN, LogLevel.INFO to Log.INFO,
            LogLevel.DEBUG to Log.DEBUG, LogLevel.TRACE to Log.VERBOSE,
        )
        for (level in levels.keys) logger.log(level, "tvpass::test", "line at $level")
        val items = ShadowLog.getLogsForTag("tvpass")
        for ((level, priority) in levels) {
            val item = items.single { it.msg == "tvpass::test: line at $level" }
            assertEquals(priority, item.type, "$level")
        }

        ShadowLog.clear()
        Emulator.reset()
        LogcatLogger.install(LogLevel.DEBUG)
        try {
            val storage = MapStorage()
            val client = client(storage)
            val session = client.createSession("Cablevision")
            Emulator.complete(assertNotNull(session.code))
            client.awaitProfile(session)
            val decision = client.authorize("Cablevision", "news")
            assertIs<Decision.Permit>(decision)
            val lines = ShadowLog.getLogsForTag("tvpass")
            assertTrue(lines.size >= 5, "the SDK's lines reached Logcat: ${lines.size}")
            assertTrue(lines.any { it.type == Log.DEBUG }, "debug lines at DEBUG")
            val secrets = storage.values.values.flatMap { v ->
                Regex("\"(client_secret|access_token)\":\"([^\"]+)\"").findAll(v).map { it.groupValues[2] }.toList()
            } + listOf(assertNotNull(decision.mediaToken).serialized.value)
            assertTrue(secrets.size >= 3, "collected $secrets")
            for (secret in secrets) {
                assertTrue(lines.none { it.msg.contains(secret) }, "a secret reached Logcat")
            }
        } finally {
            setLogger(null, LogLevel.INFO)
        }
    }
}
