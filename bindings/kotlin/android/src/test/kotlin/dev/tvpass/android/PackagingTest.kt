package dev.tvpass.android

import org.junit.Test
import java.io.File
import java.lang.reflect.Modifier
import javax.xml.parsers.DocumentBuilderFactory
import kotlin.test.assertEquals
import kotlin.test.assertTrue
import kotlin.test.fail

/**
 * What ships beside the code: the consumer R8 rules keep what JNA and the generated bindings
 * reach by reflection; the backup rules exclude KeystoreStorage's default file; no class uses a
 * java.* API that Android 6 (minSdk 23) lacks (the Android APIs are checked by compiling against
 * the android-all jar of minSdk, `mvn -Pmin-sdk compile`).
 */
class PackagingTest {
    private val androidDir = File(System.getProperty("tvpass.android.dir") ?: error("set -Dtvpass.android.dir"))
    private val classesDir = File(System.getProperty("tvpass.classes.dir") ?: error("set -Dtvpass.classes.dir"))

    private fun classNames(): List<String> = classesDir.walkTopDown()
        .filter { it.isFile && it.name.endsWith(".class") }
        .map { it.relativeTo(classesDir).path.removeSuffix(".class").replace(File.separatorChar, '.') }
        .toList()

    /** `-keep class a.b.** { *; }` patterns as regexes (`**` any name, `*` one segment). */
    private fun keepPatterns(): List<Regex> =
        File(androidDir, "consumer-rules.pro").readLines()
            .map { it.trim() }
            .filter { it.startsWith("-keep ") }
            .mapNotNull { Regex("""-keep\s+(?:class|interface)\s+(\S+)""").find(it)?.groupValues?.get(1) }
            .map { p ->
                Regex(p.split("**").joinToString(".*") { part ->
                    part.split("*").joinToString("[^.]*") { Regex.escape(it) }
                })
            }

    @Test
    fun r8RulesKeepEveryClassJnaReachesByReflection() {
        val patterns = keepPatterns()
        fun kept(name: String) = patterns.any { it.matches(name) }
        val loader = javaClass.classLoader
        val jna = listOf(com.sun.jna.Structure::class.java, com.sun.jna.Callback::class.java, com.sun.jna.Library::class.java)
        val reached = classNames().filter { it.startsWith("dev.tvpass.") }.filter { name ->
            val c = Class.forName(name, false, loader)
            jna.any { it.isAssignableFrom(c) } || c.declaredMethods.any { Modifier.isNative(it.modifiers) }
        }
        assertTrue(reached.size >= 10, "the bindings' JNA structures, callbacks and native methods: $reached")
        val missing = reached.filterNot(::kept)
        assertTrue(missing.isEmpty(), "consumer-rules.pro does not keep $missing")
        for (own in listOf("com.sun.jna.Native", "com.sun.jna.Pointer", "com.sun.jna.Structure", "com.sun.jna.CallbackReference")) {
            assertTrue(kept(own), "consumer-rules.pro does not keep $own (JNA's native code finds it by name)")
        }
    }

    private fun excludes(file: String, section: String?): List<Pair<String, String>> {
        val doc = DocumentBuilderFactory.newInstance().newDocumentBuilder()
            .parse(File(androidDir, "src/main/res/xml/$file"))
        val root = if (section == null) doc.documentElement
        else doc.getElementsByTagName(section).item(0) as? org.w3c.dom.Element ?: fail("$file has no <$section>")
        val nodes = root.getElementsByTagName("exclude")
        return (0 until nodes.length).map { i ->
            val e = nodes.item(i) as org.w3c.dom.Element
            e.getAttribute("domain") to e.getAttribute("path")
        }
    }

    @Test
    fun backupRulesExcludeTheStorageFile() {
        val file = "sharedpref" to "tvpass.xml" // KeystoreStorage's default file name, "tvpass"
        for (section in listOf("cloud-backup", "device-transfer")) {
            assertEquals(listOf(file), excludes("tvpass_data_extraction_rules.xml", section), section)
        }
        assertEquals(listOf(file), excludes("tvpass_backup_rules.xml", null))
        val manifest = File(androidDir, "src/main/AndroidManifest.xml").readText()
        assertTrue(manifest.contains("@xml/tvpass_data_extraction_rules") && manifest.contains("@xml/tvpass_backup_rules"))
    }

    @Test
    fun noDeprecatedJetpackSecurity() {
        val sources = File(androidDir, "src/main").walkTopDown().filter { it.isFile }.toList() +
            File(androidDir, "build.gradle.kts")
        val users = sources.filter { it.readText().contains("androidx.security") }
        assertTrue(users.isEmpty(), "androidx.security (deprecated) is still used by $users")
    }

    @Test
    fun noJavaApiNewerThanMinSdk() {
        // Packages and classes that Android added after API 23 (without core library desugaring).
        val newer = listOf(
            "java/time/", "java/util/function/", "java/util/stream/", "java/nio/file/",
            "java/util/Base64", "java/util/Optional", "java/util/concurrent/CompletableFuture",
            "java/net/http/", "java/lang/invoke/VarHandle",
        )
        val classes = classesDir.walkTopDown().filter { it.isFile && it.name.endsWith(".class") }.toList()
        assertTrue(classes.size > 50, "compiled classes found in $classesDir")
        val found = classes.flatMap { f ->
            val text = String(f.readBytes(), Charsets.ISO_8859_1)
            newer.filter { text.contains(it) }.map { "${f.relativeTo(classesDir)} uses $it" }
        }
        assertTrue(found.isEmpty(), found.joinToString("\n"))
    }
}
