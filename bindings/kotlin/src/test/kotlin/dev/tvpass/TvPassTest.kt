package dev.tvpass

import kotlinx.coroutines.CancellationException
import kotlinx.coroutines.async
import kotlinx.coroutines.coroutineScope
import kotlinx.coroutines.delay
import kotlinx.coroutines.runBlocking
import java.util.concurrent.atomic.AtomicInteger
import kotlin.test.Test
import kotlin.test.assertEquals
import kotlin.test.assertFailsWith
import kotlin.test.assertIs
import kotlin.test.assertNotNull
import kotlin.test.assertTrue

class TvPassTest {
    private fun config(deviceId: String? = null) = ClientConfig(
        baseUrl = Emulator.base,
        serviceProvider = "REF30",
        softwareStatement = Redacted("tvpass-emulator-software-statement"),
        deviceInfo = DeviceInfo(primaryHardwareType = "SetTopBox", osName = "Android"),
        deviceId = deviceId?.let(::Redacted),
        paceRequests = false,
    )

    private suspend fun login(client: PassClient, mvpd: String) {
        val session = client.createSession(mvpd)
        assertEquals(SessionAction.Authenticate, session.action)
        Emulator.complete(session.code!!)
        assertEquals(mvpd, client.awaitProfile(session).mvpd)
    }

    @Test
    fun unavailableSaysWhenTheNextProbeGoes() {
        // Thrown by a server's PassService while it fails fast; a device's client never throws it.
        val e: PassException = PassException.Unavailable(1_500uL)
        val retryAfter = when (e) {
            is PassException.Unavailable -> e.retryAfterMs
            else -> null
        }
        assertEquals(1_500uL, retryAfter)
    }

    @Test
    fun registerLoginAndAuthorizeWithPermit() = runBlocking<Unit> {
        Emulator.reset()
        val client = PassClient(config(), MapStorage())
        val configuration = client.configuration()
        assertEquals(listOf("Cablevision", "Spectrum"), configuration.pickerMvpds.map { it.id })
        login(client, "Cablevision")
        val decision = client.authorize("Cablevision", "news")
        assertIs<Decision.Permit>(decision)
        val token = assertNotNull(decision.mediaToken).serialized.value
        assertTrue(token.isNotEmpty())
        val profile = client.profiles().single()
        assertEquals("10001", profile.attributes["zip"]!!.value.value)
        // Logging a decision or a profile shows neither the media token nor a user identifier.
        val userId = profile.attributes.getValue("userID").value.value
        assertTrue(userId.length >= 8)
        assertTrue(token !in decision.toString(), "the media token in toString()")
        assertTrue(userId !in profile.toString() && "***" in profile.toString(), "a user identifier in toString()")
        val logout = client.logout("Cablevision")
        assertIs<LogoutAction.OpenUrl>(logout)
        assertEquals(1, Emulator.count("/o/client/register"))
    }

    @Test
    fun eachDenyReasonIsAKotlinType() = runBlocking<Unit> {
        Emulator.reset()
        val client = PassClient(config(), MapStorage())
        val missing = client.authorize("Cablevision", "news")
        assertIs<Decision.Deny>(missing)
        assertEquals(DenyReason.ProfileMissing, missing.reason)
        // The same Deny when the error comes at top level (403) instead of inside the item.
        Emulator.topLevelDecisionError("authenticated_profile_missing")
        val topLevel = client.authorize("Cablevision", "news")
        assertIs<Decision.Deny>(topLevel)
        assertEquals(DenyReason.ProfileMissing, topLevel.reason)
        assertEquals(403, topLevel.error.status.toInt())
        login(client, "Cablevision")
        login(client, "Spectrum")
        val cases = listOf(
            Triple("Cablevision", "late-night", DenyReason.ParentalControls),
            Triple("Cablevision", "cooking", DenyReason.DeniedByMvpd),
            Triple("Spectrum", "premium", DenyReason.HbaPolicies),
        )
        for ((mvpd, resource, reason) in cases) {
            val d = client.authorize(mvpd, resource)
            assertIs<Decision.Deny>(d)
            assertEquals(reason, d.reason)
            assertTrue(d.error.message.isNotEmpty())
        }
        val pre = client.preauthorize("Cablevision", listOf("news", "cooking"))
        assertIs<Decision.Permit>(pre[0])
        assertEquals(DenyReason.PreauthorizationDeniedByMvpd, (pre[1] as Decision.Deny).reason)
    }

    @Test
    fun promotionalTempPass() = runBlocking<Unit> {
        Emulator.reset()
        val client = PassClient(config(), MapStorage())
        assertEquals("f7ee5ec7312165148b69fcca1d29075b14b8aef0b5048a332b18b88d09069fb7", tempPassIdentityHash("User@Domain.com"))
        for (r in listOf("a", "b", "c")) {
            assertIs<Decision.Permit>(client.authorizeTempPass("TempPass_Promo", r, email = "user@domain.com"))
        }
        val over = client.authorizeTempPass("TempPass_Promo", "d", "user@domain.com")
        assertEquals(DenyReason.TempPassResourcesExceeded, (over as Decision.Deny).reason)
        assertIs<Decision.Permit>(client.authorizeTempPass("TempPass_10min", "movies"))
        Emulator.advanceSeconds(601)
        val expired = client.authorizeTempPass("TempPass_10min", "movies")
        assertEquals(DenyReason.TempPassDurationExceeded, (expired as Decision.Deny).reason)
    }

    /** A resource as the decisions page defines one: an MRSS document with a rating, on several lines. */
    private val rated = """
        <rss version="2.0" xmlns:media="http://search.yahoo.com/mrss/">
            <channel>
                <title>REF30</title>
                <media:rating scheme="urn:mpaa">pg</media:rating>
            </channel>
        </rss>
    """.trimIndent()

    /** An episode of `bytes` bytes: an item with its guid and a v-chip rating, padded with spaces. */
    private fun episode(channel: String, bytes: Int): String {
        val head = "<rss version=\"2.0\" xmlns:media=\"http://search.yahoo.com/mrss/\">\r\n\t<channel>\r\n" +
            "\t\t<title>$channel</title>\r\n\t\t<item>\r\n\t\t\t<title>The Pilot</title>\r\n" +
            "\t\t\t<guid>urn:$channel:episode:1</guid>\r\n" +
            "\t\t\t<media:rating scheme=\"urn:v-chip\">tv-14</media:rating>\r\n\t\t</item>\r\n"
        val tail = "\t</channel>\r\n</rss>"
        return head + " ".repeat(bytes - head.length - tail.length) + tail
    }

    @Test
    fun mrssResourcesAreAuthorizedAsWritten() = runBlocking<Unit> {
        Emulator.reset()
        val client = PassClient(config(), MapStorage())
        login(client, "Cablevision")
        val large = episode("REF30", 4096)
        for (resource in listOf(rated, episode("REF30", 289), large)) {
            val d = client.authorize("Cablevision", resource)
            assertIs<Decision.Permit>(d, resource)
            assertEquals(resource, d.resource)
        }
        val late = episode("late-night", 400)
        val pre = client.preauthorize("Cablevision", listOf(rated, large, late))
        assertEquals(listOf(rated, large, late), pre.map { when (it) { is Decision.Permit -> it.resource; is Decision.Deny -> it.resource } })
        assertIs<Decision.Permit>(pre[0])
        assertIs<Decision.Permit>(pre[1])
        assertEquals(DenyReason.ParentalControls, (pre[2] as Decision.Deny).reason)
        assertIs<Decision.Permit>(client.authorizeTempPass("TempPass_10min", rated))
        assertIs<Decision.Permit>(client.authorizeTempPass("TempPass_Promo", large, "user@domain.com"))
        val tooLong = assertFailsWith<PassException.InvalidConfiguration> {
            client.authorize("Cablevision", episode("REF30", 8 * 1024 + 1))
        }
        assertEquals("resource", tooLong.setting)
        assertFailsWith<PassException.InvalidConfiguration> { client.authorize("Cablevision", "REF30\u0000") }
    }

    @Test
    fun aDeviceClockAnHourOrADayOffStillLogsIn() = runBlocking<Unit> {
        val hour = 3_600_000L
        for (deviceOffset in listOf(hour, 24 * hour, -hour, -24 * hour)) {
            Emulator.reset()
            Emulator.skewClock(-deviceOffset)
            val client = PassClient(config(), MapStorage())
            login(client, "Cablevision")
            val asked = Emulator.count("/api/v2/REF30/profiles")
            assertEquals(1, client.profiles().size)
            assertEquals(asked, Emulator.count("/api/v2/REF30/profiles"), "the profile is kept ($deviceOffset ms)")
            client.preauthorize("Cablevision", listOf("news", "sports"))
            val before = Emulator.count("/api/v2/REF30/decisions")
            val again = client.preauthorize("Cablevision", listOf("news", "sports"))
            assertTrue(again.all { it is Decision.Permit })
            assertEquals(before, Emulator.count("/api/v2/REF30/decisions"), "the Permits are kept ($deviceOffset ms)")
            assertIs<Decision.Permit>(client.authorize("Cablevision", "news"))
        }
        Emulator.reset()
    }

    @Test
    fun kotlinStorageSurvivesAcrossTwoClients() = runBlocking<Unit> {
        Emulator.reset()
        val storage = MapStorage()
        val first = PassClient(config(), storage)
        login(first, "Cablevision")
        first.close()
        val registrations = Emulator.count("/o/client/")
        val second = PassClient(config(), storage)
        assertIs<Decision.Permit>(second.authorize("Cablevision", "news"))
        assertEquals(registrations, Emulator.count("/o/client/"), "no DCR call after a restart")
        assertTrue(storage.values.keys.any { it.endsWith("credentials") })
    }

    /** A store whose reads fail (the Keystore before the user unlocks), writes kept in a map. */
    class LockedStorage(private val failure: () -> Exception) : Storage {
        val values = java.util.concurrent.ConcurrentHashMap<String, String>()
        val failedReads = AtomicInteger()
        val read = java.util.concurrent.ConcurrentHashMap.newKeySet<String>()
        override fun get(key: String): String? {
            failedReads.incrementAndGet()
            read.add(key)
            throw failure()
        }
        override fun set(key: String, value: String) { values[key] = value }
        override fun remove(key: String) { values.remove(key) }
    }

    @Test
    fun aStorageThatThrowsIsLoggedOnceAndReportedAndTheCallsProceedSignedOut() = runBlocking<Unit> {
        Emulator.reset()
        val logger = CollectingLogger()
        setLogger(logger, LogLevel.WARN)
        try {
            val storage = LockedStorage { StorageException.Unavailable("user not unlocked") }
            val client = PassClient(config(), storage)
            // Read at build time: the failure is there before any call.
            val reported = assertIs<StorageException.Unavailable>(client.lastStorageError())
            assertEquals("user not unlocked", reported.reason)
            // The calls proceed as on a fresh install: no profile, then a login that works.
            assertEquals(emptyList(), client.profiles())
            login(client, "Cablevision")
            assertIs<Decision.Permit>(client.authorize("Cablevision", "news"))
            // What could not be read is kept as stored: nothing the client did overwrote it.
            assertTrue(storage.read.isNotEmpty())
            assertTrue(storage.values.keys.none { it in storage.read }, "${storage.values.keys}")
            // Each failed read logged once, at WARN, with the reason and never a value.
            val lines = logger.lines.filter { "user not unlocked" in it }
            assertEquals(storage.failedReads.get(), lines.size, "one line per failure: $lines")
            assertTrue(lines.all { it.startsWith("WARN") }, "$lines")
            for (value in storage.values.values) {
                assertTrue(lines.none { value.trim('"') in it }, "a stored value in the log")
            }
            // An exception the interface does not declare reaches the app too, as Failed.
            val broken = PassClient(config(), LockedStorage { IllegalStateException("disk gone") })
            val error = assertIs<StorageException.Failed>(broken.lastStorageError())
            assertTrue("disk gone" in error.reason, error.reason)
            assertEquals(null, PassClient(config(), MapStorage()).lastStorageError())
        } finally {
            setLogger(null, LogLevel.INFO)
        }
    }

    @Test
    fun noGeneratedToStringShowsASecret() {
        val statement = "statement-S3CRET-1"
        val deviceId = "device-S3CRET-2"
        val bearer = "Bearer token-S3CRET-3"
        val accessToken = "token-S3CRET-4"
        val mediaToken = "media-S3CRET-5"
        val userId = "user-S3CRET-6"
        val config = ClientConfig(
            baseUrl = "https://api.auth.adobe.com",
            serviceProvider = "REF30",
            softwareStatement = Redacted(statement),
            deviceInfo = DeviceInfo(primaryHardwareType = "TV"),
            deviceId = Redacted(deviceId),
        )
        val header = HttpHeader(name = "authorization", value = Redacted(bearer))
        val response = HttpResponse(200u, listOf(header), "{\"access_token\":\"$accessToken\"}".toByteArray())
        val parts = HttpRequestParts(
            method = "POST",
            url = "https://api.auth.adobe.com/o/client/token",
            headerBlock = "authorization: $bearer\r\n".toByteArray(),
            body = "client_secret=$accessToken".toByteArray(),
            timeoutMs = 1000uL,
            maxResponseBytes = 1000uL,
        )
        val token = MediaToken(serialized = Redacted(mediaToken), notBeforeMs = 1, notAfterMs = 2)
        val decision = Decision.Permit(resource = "news", mvpd = "Cablevision", source = "mvpd", mediaToken = token, notAfterMs = 2)
        val attribute = Attribute(value = Redacted(userId), encrypted = false)
        val profile = Profile(
            mvpd = "Cablevision", notBeforeMs = 1, notAfterMs = 2, issuer = "Cablevision",
            profileType = ProfileType.Regular, attributes = mapOf("userID" to attribute), tempPass = null,
        )
        val printed = listOf<Any>(config, config.softwareStatement, header, response, parts, token, decision, attribute, profile)
            .map { it.toString() }
        for (text in printed) {
            for (secret in listOf(statement, deviceId, bearer, accessToken, mediaToken, userId)) {
                assertTrue(secret !in text, "$secret in $text")
            }
        }
        assertTrue("***" in config.toString(), config.toString())
        assertEquals(statement, config.softwareStatement.value)
    }

    @Test
    fun cancellingTheCoroutineStopsPolling() = runBlocking<Unit> {
        Emulator.reset()
        val client = PassClient(config(), MapStorage())
        val session = client.createSession("Cablevision")
        val pollsSeen = AtomicInteger()
        val listener = object : PollListener {
            override fun onPoll(polls: UInt) { pollsSeen.set(polls.toInt()) }
        }
        val job = async { client.awaitProfile(session, listener) }
        delay(500)
        job.cancel()
        assertFailsWith<CancellationException> { job.await() }
        val after = Emulator.count("/api/v2/REF30/profiles/code")
        delay(3500)
        assertEquals(after, Emulator.count("/api/v2/REF30/profiles/code"), "the emulator saw polling stop")
        assertEquals(1, pollsSeen.get(), "the listener heard the one poll before cancellation")
    }

    @Test
    fun errorsAreKotlinExceptions() = runBlocking<Unit> {
        Emulator.reset()
        val bad = assertFailsWith<PassException.InvalidConfiguration> {
            PassClient(config().copy(baseUrl = "http://example.com"), null)
        }
        assertEquals("environment", bad.setting)
        val client = PassClient(config(), MapStorage())
        val e = assertFailsWith<PassException.Server> { client.authorize("NoSuchMvpd", "news") }
        assertEquals(400, e.status.toInt())
        assertEquals("invalid_integration", assertNotNull(e.error).code)
        assertFailsWith<PassException.InvalidConfiguration> { client.authorize("", "news") }
    }

    /** A JWS naming `sub` (the emulator reads the claims; it does not check signatures). */
    private fun jws(sub: String): String {
        val enc = java.util.Base64.getUrlEncoder().withoutPadding()
        val header = enc.encodeToString("{\"alg\":\"RS256\"}".toByteArray())
        val payload = enc.encodeToString("{\"sub\":\"$sub\",\"exp\":4000000000}".toByteArray())
        return "$header.$payload.c2ln"
    }

    @Test
    fun platformIdentitySharesTheLoginBetweenApps() = runBlocking<Unit> {
        Emulator.reset()
        val token = jws("fire-tv-viewer")
        val first = PassClient(config("fire-tv-app-one"), MapStorage())
        first.setSubjectToken(token)
        first.setVisitorId("ecid-kotlin")
        login(first, "Cablevision")
        val second = PassClient(config("fire-tv-app-two"), MapStorage())
        second.setSubjectToken(token)
        val profile = second.profiles().single()
        assertEquals(ProfileType.PlatformSso, profile.profileType)
        val session = second.createSession("Cablevision")
        assertEquals(SessionAction.Authorize, session.action)
        assertEquals("authenticatedSSO", session.reason)
        assertIs<Decision.Permit>(second.authorize("Cablevision", "news"))
        val log = Emulator.requests()
        assertTrue(log.contains("[\"adobe-subject-token\",\"$token\"]"), "the token went as Adobe-Subject-Token")
        assertTrue(log.contains("[\"ap-visitor-identifier\",\"ecid-kotlin\"]"), "the visitor id went too")
        // Without the identity the second app has nothing.
        second.setSubjectToken(null)
        val denied = second.authorize("Cablevision", "news")
        assertIs<Decision.Deny>(denied)
        assertEquals(DenyReason.ProfileMissing, denied.reason)
        // Roku's token goes under its own header and replaces the subject token.
        second.setRokuConnectToken(token)
        assertIs<Decision.Permit>(second.authorize("Cablevision", "news"))
        assertTrue(Emulator.requests().contains("[\"x-roku-reserved-roku-connect-token\",\"$token\"]"))
    }

    @Test
    fun serviceTokenSetAtRuntimeSharesTheLogin() = runBlocking<Unit> {
        Emulator.reset()
        val token = jws("programmer-user")
        val first = PassClient(config("phone-app"), MapStorage())
        first.setServiceToken(token)
        login(first, "Spectrum")
        val second = PassClient(config("tv-app"), MapStorage())
        assertEquals(DenyReason.ProfileMissing, (second.authorize("Spectrum", "anything") as Decision.Deny).reason)
        second.setServiceToken(token)
        assertIs<Decision.Permit>(second.authorize("Spectrum", "anything"))
        val profile = second.profile("Spectrum")
        assertEquals(ProfileType.ServiceTokenSso, assertNotNull(profile).profileType)
        assertTrue(Emulator.requests().contains("[\"ad-service-token\",\"$token\"]"))
        val bad = assertFailsWith<PassException.InvalidConfiguration> { second.setServiceToken("bad\nvalue") }
        assertEquals("service_token", bad.setting)
        // Single logout ends the shared profile.
        assertEquals(LogoutAction.Complete, second.logout("Spectrum"))
        assertIs<Decision.Deny>(second.authorize("Spectrum", "anything"))
    }

    /** Logs in, holds the next decision 3 s, cancels the authorize after 300 ms: it must end within 100 ms. */
    private suspend fun cancelAnAuthorizeHeldByTheEmulator(client: PassClient) = coroutineScope {
        login(client, "Cablevision")
        Emulator.delayDecisions(3000)
        val job = async { client.authorize("Cablevision", "news") }
        delay(300)
        val cancelledAt = System.nanoTime()
        job.cancel()
        assertFailsWith<CancellationException> { job.await() }
        val tookMs = (System.nanoTime() - cancelledAt) / 1_000_000
        assertTrue(tookMs < 100, "the call ended $tookMs ms after the cancellation")
    }

    @Test
    fun cancellingAnAuthorizeEndsItPromptlyAndTheNextCallWorks() = runBlocking<Unit> {
        Emulator.reset()
        val client = PassClient(config(), MapStorage())
        cancelAnAuthorizeHeldByTheEmulator(client)
        // The next call works; fields by name, no positional destructuring.
        when (val d = client.authorize("Cablevision", "news")) {
            is Decision.Permit -> assertTrue(assertNotNull(d.mediaToken).serialized.value.isNotEmpty())
            is Decision.Deny -> error("expected a Permit, got ${d.reason}")
        }
        val deny = client.authorize("Cablevision", "late-night")
        assertIs<Decision.Deny>(deny)
        assertEquals(DenyReason.ParentalControls, deny.reason)
        assertTrue(deny.error.message.isNotEmpty())
    }

    /** Collects the SDK's log lines, as an app's Logcat or logging tool would. */
    class CollectingLogger : Logger {
        val lines = java.util.concurrent.ConcurrentLinkedQueue<String>()
        override fun log(level: LogLevel, target: String, message: String) {
            lines.add("$level $target $message")
        }
    }

    @Test
    fun hostTransportRunsTheWholeJourneyAndLogsReachTheHostLogger() = runBlocking<Unit> {
        Emulator.reset()
        val logger = CollectingLogger()
        setLogger(logger, LogLevel.TRACE)
        try {
            val storage = MapStorage()
            val client = PassClient(config(), storage, blockingTransport = HttpUrlConnectionTransport())
            assertEquals(listOf("Cablevision", "Spectrum"), client.configuration().pickerMvpds.map { it.id })
            login(client, "Cablevision")
            val pre = client.preauthorize("Cablevision", listOf("news", "late-night"))
            assertIs<Decision.Permit>(pre[0])
            assertEquals(DenyReason.ParentalControls, (pre[1] as Decision.Deny).reason)
            val permit = client.authorize("Cablevision", "news")
            assertIs<Decision.Permit>(permit)
            val mediaToken = assertNotNull(permit.mediaToken).serialized.value
            assertIs<Decision.Permit>(client.authorizeTempPass("TempPass_10min", "news"))
            assertIs<LogoutAction.OpenUrl>(client.logout("Cablevision"))
            // Errors through the host transport are the same typed errors.
            val e = assertFailsWith<PassException.Server> { client.authorize("NoSuchMvpd", "news") }
            assertEquals("invalid_integration", assertNotNull(e.error).code)
            assertEquals(1, Emulator.count("/o/client/register"))

            val lines = logger.lines.toList()
            assertTrue(lines.any { it.contains("answer") }, "request lines arrived: $lines")
            val secrets = storage.values.values.flatMap { v ->
                Regex("\"(client_secret|access_token)\":\"([^\"]+)\"").findAll(v).map { it.groupValues[2] }.toList()
            } + listOf(mediaToken, storage.values.entries.first { it.key.endsWith("device_id") }.value.trim('"'))
            assertTrue(secrets.size >= 4, "collected $secrets")
            for (secret in secrets) {
                assertTrue(lines.none { it.contains(secret) }, "a secret reached the log")
            }
        } finally {
            setLogger(null, LogLevel.INFO)
        }
    }

    @Test
    fun cancellingAnAuthorizeThroughTheHostTransportDisconnectsIt() = runBlocking<Unit> {
        Emulator.reset()
        val client = PassClient(config(), MapStorage(), blockingTransport = HttpUrlConnectionTransport())
        cancelAnAuthorizeHeldByTheEmulator(client)
        assertIs<Decision.Permit>(client.authorize("Cablevision", "news"))
    }
}
