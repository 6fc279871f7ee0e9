package dev.tvpass.android

import android.content.Context
import android.content.SharedPreferences
import android.security.keystore.KeyGenParameterSpec
import android.security.keystore.KeyProperties
import android.util.Base64
import android.security.keystore.KeyPermanentlyInvalidatedException
import dev.tvpass.Storage
import dev.tvpass.StorageException
import java.security.KeyStore
import javax.crypto.AEADBadTagException
import javax.crypto.Cipher
import javax.crypto.KeyGenerator
import javax.crypto.SecretKey
import javax.crypto.spec.GCMParameterSpec

/**
 * Where [KeystoreStorage] gets its AES key. The app passes [AndroidKeyStoreKeySource] (the
 * default); tests on the JVM, where no AndroidKeyStore exists, pass a software key.
 */
fun interface KeySource {
    /** The key, created on first use; throws when no key can be had. */
    fun key(): SecretKey

    /**
     * The key was permanently invalidated ([KeyPermanentlyInvalidatedException]): forget it, so
     * that the next [key] makes a new one.
     */
    fun discard() {}
}

/**
 * An AES-256 key kept in the AndroidKeyStore under [alias]: it never leaves the key store (the
 * device's secure hardware where it has one) and is not part of any backup.
 */
class AndroidKeyStoreKeySource(private val alias: String = "dev.tvpass.storage") : KeySource {
    override fun key(): SecretKey {
        val store = KeyStore.getInstance(PROVIDER).apply { load(null) }
        (store.getKey(alias, null) as? SecretKey)?.let { return it }
        val generator = KeyGenerator.getInstance(KeyProperties.KEY_ALGORITHM_AES, PROVIDER)
        generator.init(
            KeyGenParameterSpec.Builder(alias, KeyProperties.PURPOSE_ENCRYPT or KeyProperties.PURPOSE_DECRYPT)
                .setBlockModes(KeyProperties.BLOCK_MODE_GCM)
                .setEncryptionPaddings(KeyProperties.ENCRYPTION_PADDING_NONE)
                .setKeySize(256)
                .build(),
        )
        return generator.generateKey()
    }

    override fun discard() {
        KeyStore.getInstance(PROVIDER).apply { load(null) }.deleteEntry(alias)
    }

    private companion object {
        const val PROVIDER = "AndroidKeyStore"
    }
}

/**
 * The SDK's [Storage] on Android: each value encrypted with AES-256-GCM under a key from the
 * AndroidKeyStore, kept as IV and ciphertext in the plain `SharedPreferences` file [fileName]
 * (client credentials, the access token, profiles and the device id survive app updates and stay
 * on the device). The entry's name is bound to its value as associated data, so values cannot be
 * swapped between entries.
 *
 * Only a value proven undecryptable for good reads as missing and is removed, so that the SDK
 * registers again: one that fails authentication under the key ([AEADBadTagException]: restored
 * from a backup onto another device, sealed under a key since deleted, moved to another entry,
 * damaged), one in no format this class writes, or one whose key the key store permanently
 * invalidated ([KeyPermanentlyInvalidatedException]; the key is discarded and a new one made).
 * Any other failure (the key store unavailable or busy, the user not unlocked yet) throws
 * [StorageException.Unavailable] and keeps the stored value: the SDK logs it, reports it in
 * `PassClient.lastStorageError()` and goes on without the value for that call, and the value reads
 * again once the key store answers. A write that cannot be sealed throws too and keeps the previous
 * value (never a value in clear).
 *
 * Keep the file out of Auto Backup and device transfer with the rules this library ships:
 * `android:dataExtractionRules="@xml/tvpass_data_extraction_rules"` (Android 12+) and
 * `android:fullBackupContent="@xml/tvpass_backup_rules"` (up to Android 11) on the app's
 * `<application>`, or the same `<exclude domain="sharedpref" path="tvpass.xml"/>` in its own rules.
 *
 * ```kotlin
 * val client = PassClient(config, KeystoreStorage(context),
 *     blockingTransport = HttpUrlConnectionTransport())
 * ```
 */
class KeystoreStorage(
    context: Context,
    fileName: String = "tvpass",
    private val keySource: KeySource = AndroidKeyStoreKeySource(),
) : Storage {
    private val prefs: SharedPreferences = context.getSharedPreferences(fileName, Context.MODE_PRIVATE)

    @Volatile
    private var cachedKey: SecretKey? = null

    override fun get(key: String): String? {
        val stored = prefs.getString(key, null) ?: return null
        return try {
            decrypt(key, stored)
        } catch (e: KeyPermanentlyInvalidatedException) {
            // The key is gone for good, and with it every value it sealed.
            cachedKey = null
            runCatching { keySource.discard() }
            forget(key)
        } catch (e: AEADBadTagException) {
            forget(key) // another key's value, or damaged: it will never open
        } catch (e: Undecodable) {
            forget(key)
        } catch (e: Exception) {
            // The key store cannot answer now: keep the value for a later read.
            cachedKey = null
            throw unavailable("read", e)
        }
    }

    override fun set(key: String, value: String) {
        val sealed = try {
            encrypt(key, value)
        } catch (e: Exception) {
            // The key may have been invalidated since it was cached: one more try with a fresh one.
            cachedKey = null
            if (e is KeyPermanentlyInvalidatedException) runCatching { keySource.discard() }
            try {
                encrypt(key, value)
            } catch (e: Exception) {
                cachedKey = null
                throw unavailable("write", e)
            }
        }
        prefs.edit().putString(key, sealed).apply()
    }

    override fun remove(key: String) {
        prefs.edit().remove(key).apply()
    }

    private fun forget(key: String): String? {
        prefs.edit().remove(key).apply()
        return null
    }

    /** The failure's kind, never its message (which could quote key material or a value). */
    private fun unavailable(what: String, e: Exception) =
        StorageException.Unavailable("the key store cannot $what a value: ${e.javaClass.name}")

    private fun key(): SecretKey = cachedKey ?: keySource.key().also { cachedKey = it }

    private fun encrypt(name: String, value: String): String {
        val cipher = Cipher.getInstance(TRANSFORMATION)
        cipher.init(Cipher.ENCRYPT_MODE, key()) // the key store picks a fresh random IV
        cipher.updateAAD(name.toByteArray(Charsets.UTF_8))
        val sealed = cipher.doFinal(value.toByteArray(Charsets.UTF_8))
        return FORMAT + encode(cipher.iv) + SEPARATOR + encode(sealed)
    }

    private fun decrypt(name: String, stored: String): String {
        if (!stored.startsWith(FORMAT)) throw Undecodable()
        val parts = stored.substring(FORMAT.length).split(SEPARATOR)
        if (parts.size != 2) throw Undecodable()
        val iv = decode(parts[0])
        val sealed = decode(parts[1])
        if (iv.isEmpty() || sealed.size < TAG_BITS / 8) throw Undecodable()
        val cipher = Cipher.getInstance(TRANSFORMATION)
        cipher.init(Cipher.DECRYPT_MODE, key(), GCMParameterSpec(TAG_BITS, iv))
        cipher.updateAAD(name.toByteArray(Charsets.UTF_8))
        return String(cipher.doFinal(sealed), Charsets.UTF_8)
    }

    private fun decode(text: String): ByteArray =
        try {
            Base64.decode(text, Base64.NO_WRAP)
        } catch (e: IllegalArgumentException) {
            throw Undecodable()
        }

    /** A stored value in no format this class writes: damaged, or written by something else. */
    private class Undecodable : Exception()

    private fun encode(bytes: ByteArray): String = Base64.encodeToString(bytes, Base64.NO_WRAP)

    private companion object {
        const val TRANSFORMATION = "AES/GCM/NoPadding"
        const val TAG_BITS = 128
        const val FORMAT = "v1:"
        const val SEPARATOR = ":"
    }
}
