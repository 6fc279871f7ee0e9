package dev.tvpass.android

import android.content.Context
import android.content.SharedPreferences
import android.security.keystore.KeyGenParameterSpec
import android.security.keystore.KeyProperties
import android.util.Base64
import dev.tvpass.Storage
import java.security.KeyStore
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
 * A value that cannot be decrypted (restored from a backup onto another device, the key deleted,
 * the file damaged) reads as missing and is removed: the SDK registers again instead of failing.
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
        } catch (e: Exception) {
            // Another device's value, a deleted key, or damage: start over for this entry.
            cachedKey = null
            prefs.edit().remove(key).apply()
            null
        }
    }

    override fun set(key: String, value: String) {
        val sealed = try {
            encrypt(key, value)
        } catch (e: Exception) {
            // The key may have been invalidated since it was cached: one more try with a fresh one.
            cachedKey = null
            try {
                encrypt(key, value)
            } catch (e: Exception) {
                null
            }
        }
        // A value that cannot be sealed is not kept at all (never in clear, never stale).
        if (sealed == null) prefs.edit().remove(key).apply() else prefs.edit().putString(key, sealed).apply()
    }

    override fun remove(key: String) {
        prefs.edit().remove(key).apply()
    }

    private fun key(): SecretKey = cachedKey ?: keySource.key().also { cachedKey = it }

    private fun encrypt(name: String, value: String): String {
        val cipher = Cipher.getInstance(TRANSFORMATION)
        cipher.init(Cipher.ENCRYPT_MODE, key()) // the key store picks a fresh random IV
        cipher.updateAAD(name.toByteArray(Charsets.UTF_8))
        val sealed = cipher.doFinal(value.toByteArray(Charsets.UTF_8))
        return FORMAT + encode(cipher.iv) + SEPARATOR + encode(sealed)
    }

    private fun decrypt(name: String, stored: String): String {
        require(stored.startsWith(FORMAT)) { "unknown format" }
        val parts = stored.substring(FORMAT.length).split(SEPARATOR)
        require(parts.size == 2) { "damaged value" }
        val iv = Base64.decode(parts[0], Base64.NO_WRAP)
        val cipher = Cipher.getInstance(TRANSFORMATION)
        cipher.init(Cipher.DECRYPT_MODE, key(), GCMParameterSpec(TAG_BITS, iv))
        cipher.updateAAD(name.toByteArray(Charsets.UTF_8))
        return String(cipher.doFinal(Base64.decode(parts[1], Base64.NO_WRAP)), Charsets.UTF_8)
    }

    private fun encode(bytes: ByteArray): String = Base64.encodeToString(bytes, Base64.NO_WRAP)

    private companion object {
        const val TRANSFORMATION = "AES/GCM/NoPadding"
        const val TAG_BITS = 128
        const val FORMAT = "v1:"
        const val SEPARATOR = ":"
    }
}
