package dev.tvpass.android

import android.content.Context
import dev.tvpass.ClientConfig
import dev.tvpass.Decision
import dev.tvpass.DenyReason
import dev.tvpass.DeviceInfo
import dev.tvpass.Emulator
import dev.tvpass.HttpUrlConnectionTransport
import dev.tvpass.LogLevel
import dev.tvpass.PassClient
import dev.tvpass.PassException
import dev.tvpass.ProfileType
import dev.tvpass.Redacted
import dev.tvpass.setLogger
import kotlinx.coroutines.CancellationException
import kotlinx.coroutines.async
import kotlinx.coroutines.delay
import kotlinx.coroutines.runBlocking
import org.junit.Test
import org.junit.runner.RunWith
import org.robolectric.RobolectricTestRunner
import org.robolectric.RuntimeEnvironment
import org.robolectric.annotation.Config
import org.robolectric.shadows.ShadowLog
import kotlin.test.assertEquals
import kotlin.test.assertFailsWith
import kotlin.test.assertTrue

// The code of the Kotlin guide (docs/kotlin.md), run under Robolectric against the emulator.
// Each block between `// guide: NAME` and `// end guide` appears in the guide as it is here;
// scripts/check-guides.py fails when they drift apart.
@RunWith(RobolectricTestRunner::class)
@Config(sdk = [34], manifest = Config.NONE)
class GuideTest {
    private val context: Context = RuntimeEnvironment.getApplication()
    private val baseUrl = Emulator.base // the app: "https://api.auth.adobe.com"
    private val softwareStatement = "tvpass-emulator-software-statement"
    private val shown = mutableListOf<String>()

    private fun showCode(code: String, url: String) {
        assertTrue(url.endsWith(code))
        Emulator.complete(code) // the user logs in on a second screen
    }
    private fun play(token: String) = assertTrue(token.isNotEmpty())
    private fun show(message: String, reason: DenyReason) { shown.add("$reason: $message") }

    @Test
    fun journey() = runBlocking<Unit> {
        Emulator.reset()
        // guide: journey
        val client = PassClient(
            ClientConfig(
                baseUrl = baseUrl,
                serviceProvider = "REF30",
                softwareStatement = Redacted(softwareStatement),
                deviceInfo = DeviceInfo(primaryHardwareType = "TV", osName = "Android"),
            ),
            KeystoreStorage(context, keySource = SoftwareKeySource()), // the app: KeystoreStorage(context)
            blockingTransport = HttpUrlConnectionTransport(), // the platform's HTTP stack
        )
        val session = client.createSession("Cablevision")
        session.code?.let { code -> showCode(code, client.authenticationUrl(code)) }
        val profile = client.awaitProfile(session) // cancel the coroutine to stop polling
        when (val d = client.authorize(profile.mvpd, "news")) {
            is Decision.Permit -> d.mediaToken?.let { play(it.serialized.value) }
            is Decision.Deny -> show(d.error.message, d.reason)
        }
        // end guide
        assertTrue(shown.isEmpty())
    }

    private fun client() = PassClient(
        ClientConfig(
            baseUrl = baseUrl,
            serviceProvider = "REF30",
            softwareStatement = Redacted(softwareStatement),
            deviceInfo = DeviceInfo(primaryHardwareType = "TV", osName = "Android"),
            paceRequests = false,
        ),
        KeystoreStorage(context, "guide", SoftwareKeySource()),
        blockingTransport = HttpUrlConnectionTransport(),
    )

    @Test
    fun errorsAndDeny() = runBlocking<Unit> {
        Emulator.reset()
        val client = client()
        var loginNeeded = false
        // guide: errors
        try {
            when (val d = client.authorize("Cablevision", "news")) {
                is Decision.Permit -> { /* play */ }
                is Decision.Deny -> when (d.reason) {
                    DenyReason.ProfileMissing -> loginNeeded = true // log in first
                    else -> show(d.error.message, d.reason) // never retried
                }
            }
        } catch (e: PassException.Network) {
            // retried already (at most 3 attempts in 30 s): offer to try again later
        } catch (e: PassException.InvalidConfiguration) {
            println("${e.setting}: ${e.reason}") // a bug in the app: fix the setting or argument
        }
        // end guide
        assertTrue(loginNeeded)
    }

    @Test
    fun singleSignOnLogsAndCancellation() = runBlocking<Unit> {
        Emulator.reset()
        val token = "eyJhbGciOiJSUzI1NiJ9.eyJzdWIiOiJndWlkZS11c2VyIiwiZXhwIjo0MDAwMDAwMDAwfQ.c2ln"
        val otherApp = PassClient(
            ClientConfig(baseUrl = baseUrl, serviceProvider = "REF30", softwareStatement = Redacted(softwareStatement),
                deviceInfo = DeviceInfo(primaryHardwareType = "TV", osName = "Android"), deviceId = Redacted("other-app"),
                paceRequests = false),
            null,
        )
        otherApp.setSubjectToken(token)
        val s = otherApp.createSession("Cablevision")
        Emulator.complete(s.code!!)
        otherApp.awaitProfile(s)

        ShadowLog.clear()
        // guide: logs
        LogcatLogger.install(LogLevel.DEBUG) // tag "tvpass"; INFO in release builds; never a secret
        // end guide
        try {
            val client = client()
            val amazonSsoToken = token
            // guide: sso
            client.setSubjectToken(amazonSsoToken) // Fire TV; setRokuConnectToken, setServiceToken
            val profiles = client.profiles() // one request: other apps' logins of the same identity
            // end guide
            assertEquals(ProfileType.PlatformSso, profiles.single().profileType)
            assertTrue(ShadowLog.getLogsForTag("tvpass").isNotEmpty())

            Emulator.delayDecisions(3000)
            // guide: cancellation
            val call = async { client.authorize("Cablevision", "news") }
            delay(100)
            call.cancel() // the request is abandoned at once
            // end guide
            assertFailsWith<CancellationException> { call.await() }
        } finally {
            setLogger(null, LogLevel.INFO)
        }
    }
}
