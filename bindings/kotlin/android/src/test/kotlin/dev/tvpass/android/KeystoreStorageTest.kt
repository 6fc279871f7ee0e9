package dev.tvpass.android

import android.content.Context
import org.junit.Test
import org.junit.runner.RunWith
import org.robolectric.RobolectricTestRunner
import org.robolectric.RuntimeEnvironment
import org.robolectric.annotation.Config
import javax.crypto.KeyGenerator
import javax.crypto.SecretKey
import kotlin.test.assertEquals
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
        storage.set("k", "secret")
        assertFalse(raw("failing").contains("k"))
        assertNull(storage.get("k"))
    }
}
