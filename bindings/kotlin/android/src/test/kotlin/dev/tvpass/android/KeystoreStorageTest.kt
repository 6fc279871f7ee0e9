package dev.tvpass.android

import android.content.Context
import android.security.keystore.KeyPermanentlyInvalidatedException
import dev.tvpass.StorageException
import org.junit.Test
import org.junit.runner.RunWith
import org.robolectric.RobolectricTestRunner
import org.robolectric.RuntimeEnvironment
import org.robolectric.annotation.Config
import javax.crypto.KeyGenerator
import javax.crypto.SecretKey
import kotlin.test.assertEquals
import kotlin.test.assertFailsWith
import kotlin.test.assertFalse
import kotlin.test.assertNotEquals
import kotlin.test.assertNull
import kotlin.test.assertTrue

/** A software AES key: the JVM has no AndroidKeyStore. */
class SoftwareKeySource(var current: SecretKey = newKey()) : KeySource {
    override fun key(): SecretKey = current

    companion object {
        fun newKey(): SecretKey = KeyGenerator.getInstance("AES").apply { init(256) }.generateKey()
    }
}

@RunWith(RobolectricTestRunner::class)
@Config(sdk = [34], manifest = Config.NONE)
class KeystoreStorageTest {
    private val context: Context = RuntimeEnvironment.getApplication()

    private fun raw(file: String = "tvpass") = context.getSharedPreferences(file, Context.MODE_PRIVATE)

    @Test
    fun roundTripOverwriteAndRemove() {
        val storage = KeystoreStorage(context, keySource = SoftwareKeySource())
        assertNull(storage.get("tvpass.token"))
        storage.set("tvpass.token", "{\"access_token\":\"secret-1\"}")
        assertEquals("{\"access_token\":\"secret-1\"}", storage.get("tvpass.token"))
        storage.set("tvpass.token", "{\"access_token\":\"secret-2\"}")
        assertEquals("{\"access_token\":\"secret-2\"}", storage.get("tvpass.token"))
        storage.remove("tvpass.token")
        assertNull(storage.get("tvpass.token"))
        assertFalse(raw().contains("tvpass.token"))
        storage.remove("never-set") // not an error
    }

    @Test
    fun valuesAreSealedOnDiskWithAFreshIvEachTime() {
        val storage = KeystoreStorage(context, keySource = SoftwareKeySource())
        storage.set("k", "client-secret-value")
        val first = raw().getString("k", null)!!
        assertTrue(first.startsWith("v1:"), first)
        assertFalse(first.contains("client-secret-value"))
        storage.set("k", "client-secret-value")
        assertNotEquals(first, raw().getString("k", null), "a fresh IV for every write")
        assertEquals("client-secret-value", storage.get("k"))
    }

    @Test
    fun anUndecryptableValueReadsAsMissingAndIsRemoved() {
        val keys = SoftwareKeySource()
        val storage = KeystoreStorage(context, keySource = keys)
        storage.set("a", "one")
        storage.set("b", "two")
        storage.set("c", "three")
        // Restored onto another device, or the key deleted: another key than the one that sealed it.
        val elsewhere = KeystoreStorage(context, keySource = SoftwareKeySource())
        assertNull(elsewhere.get("a"))
        assertFalse(raw().contains("a"), "the unreadable value is removed")
        // Damaged on disk.
        raw().edit().putString("b", "v1:not-base64:###").commit()
        assertNull(storage.get("b"))
        assertFalse(raw().contains("b"))
        // A sealed value moved under another name does not open there (the name is bound to it).
        raw().edit().putString("moved", raw().getString("c", null)).commit()
        assertNull(storage.get("moved"))
        assertEquals("three", storage.get("c"))
        // Written in clear by something else.
        raw().edit().putString("plain", "{\"x\":1}").commit()
        assertNull(storage.get("plain"))
    }

    @Test
    fun afterTheKeyIsLostTheStorageStartsOverAndWritesAgain() {
        val storage = KeystoreStorage(context, "lost", SoftwareKeySource())
        storage.set("k", "before")
        // The app starts again and the key store no longer has the key: a new one is made.
        val restarted = KeystoreStorage(context, "lost", SoftwareKeySource())
        assertNull(restarted.get("k"))
        restarted.set("k", "after")
        assertEquals("after", restarted.get("k"))
    }

    @Test
    fun twoFilesKeepTheSameKeysApart() {
        val keys = SoftwareKeySource()
        val production = KeystoreStorage(context, "tvpass", keys)
        val staging = KeystoreStorage(context, "tvpass-staging", keys)
        production.set("client", "prod")
        staging.set("client", "stage")
        assertEquals("prod", production.get("client"))
        assertEquals("stage", staging.get("client"))
        staging.remove("client")
        assertEquals("prod", production.get("client"))
    }

    @Test
    fun aKeySourceThatFailsKeepsNothingInClear() {
        val storage = KeystoreStorage(context, "failing", KeySource { throw IllegalStateException("no key store") })
        val e = assertFailsWith<StorageException.Unavailable> { storage.set("k", "secret") }
        assertFalse("secret" in e.reason)
        assertFalse(raw("failing").contains("k"))
        assertNull(storage.get("k"))
    }

    /** A key store that can be switched off, as before the user unlocks the device. */
    class FlakyKeySource : KeySource {
        private val key = SoftwareKeySource.newKey()
        @Volatile var available = true
        var discarded = 0
        override fun key(): SecretKey =
            if (available) key else throw java.security.KeyStoreException("user not unlocked")
        override fun discard() { discarded++ }
    }

    @Test
    fun aTransientFailureThrowsAndKeepsTheValue() {
        val keys = FlakyKeySource()
        KeystoreStorage(context, "flaky", keys).set("tvpass.token", "{\"access_token\":\"secret-1\"}")
        val sealed = raw("flaky").getString("tvpass.token", null)!!
        // The app starts again before the key store answers: reads and writes throw, nothing is lost.
        keys.available = false
        val locked = KeystoreStorage(context, "flaky", keys)
        val read = assertFailsWith<StorageException.Unavailable> { locked.get("tvpass.token") }
        assertTrue("KeyStoreException" in read.reason, read.reason)
        assertFalse("secret-1" in read.reason)
        assertFailsWith<StorageException.Unavailable> { locked.set("tvpass.token", "{\"access_token\":\"secret-2\"}") }
        assertEquals(sealed, raw("flaky").getString("tvpass.token", null), "the stored value is kept as it was")
        assertEquals(0, keys.discarded)
        // Once the key store answers, the same value reads again.
        keys.available = true
        assertEquals("{\"access_token\":\"secret-1\"}", locked.get("tvpass.token"))
    }

    @Test
    fun aPermanentlyInvalidatedKeyRemovesItsValuesAndANewKeyIsMade() {
        var invalidated = false
        var current = SoftwareKeySource.newKey()
        var discarded = 0
        val keys = object : KeySource {
            override fun key(): SecretKey =
                if (invalidated) throw KeyPermanentlyInvalidatedException("lock screen removed") else current
            override fun discard() {
                discarded++
                invalidated = false
                current = SoftwareKeySource.newKey()
            }
        }
        KeystoreStorage(context, "invalidated", keys).set("k", "before")
        // The app starts again and the key store says the key is invalidated for good.
        invalidated = true
        val storage = KeystoreStorage(context, "invalidated", keys)
        assertNull(storage.get("k"), "a value of an invalidated key never opens again")
        assertFalse(raw("invalidated").contains("k"))
        assertEquals(1, discarded)
        storage.set("k", "after")
        assertEquals("after", storage.get("k"))
    }
}
