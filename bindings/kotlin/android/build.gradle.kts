// Android library (AAR) of the tvpass Kotlin bindings: the generated Kotlin sources, the
// native library for each ABI under jniLibs (built by build-aar.sh with cargo-ndk), the ready
// KeystoreStorage and LogcatLogger, and the backup rules for the storage's file. The same sources
// are compiled and tested on the JVM by pom.xml (Robolectric), against the android-all jar of
// minSdk and of compileSdk.
plugins {
    id("com.android.library") version "8.7.3"
    id("org.jetbrains.kotlin.android") version "2.1.0"
    id("maven-publish")
    id("signing")
}

group = "dev.tvpass"
// The workspace's version (Cargo.toml); scripts/check-version.py holds this to it.
version = "0.1.0"

android {
    namespace = "dev.tvpass"
    compileSdk = 35
    defaultConfig {
        minSdk = 23
        consumerProguardFiles("consumer-rules.pro")
    }
    sourceSets["main"].java.srcDirs("src/main/kotlin", "../src/main/kotlin", "build/generated/uniffi")
    sourceSets["main"].jniLibs.srcDirs("build/generated/jniLibs")
    // The Robolectric suite (also run by pom.xml): needs TVPASS_EMULATOR and the host library.
    sourceSets["test"].java.srcDirs("src/test/kotlin", "../src/testFixtures/kotlin")
    testOptions.unitTests.all {
        it.systemProperty("tvpass.emulator", System.getenv("TVPASS_EMULATOR") ?: "")
        it.systemProperty("jna.library.path", file("../../../target/debug").path)
        it.systemProperty("tvpass.android.dir", projectDir.path)
        it.systemProperty("tvpass.classes.dir", layout.buildDirectory.dir("tmp/kotlin-classes/debug").get().asFile.path)
    }
    compileOptions {
        sourceCompatibility = JavaVersion.VERSION_17
        targetCompatibility = JavaVersion.VERSION_17
    }
    kotlinOptions { jvmTarget = "17" }
    publishing { singleVariant("release") { withSourcesJar() } }
}

dependencies {
    implementation("net.java.dev.jna:jna:5.15.0@aar")
    implementation("org.jetbrains.kotlinx:kotlinx-coroutines-android:1.9.0")
    testImplementation("junit:junit:4.13.2")
    testImplementation("org.robolectric:robolectric:4.14.1")
    testImplementation("org.jetbrains.kotlin:kotlin-test-junit:2.1.0")
    testImplementation("net.java.dev.jna:jna:5.15.0")
}

publishing {
    publications {
        register<MavenPublication>("release") {
            artifactId = "tvpass"
            afterEvaluate { from(components["release"]) }
            pom {
                name.set("tvpass")
                description.set("The tvpass SDK for Android and Android TV: the Adobe Pass Authentication REST API V2 client")
                url.set("https://github.com/tvpass/tvpass")
                licenses {
                    license {
                        name.set("Apache-2.0")
                        url.set("https://www.apache.org/licenses/LICENSE-2.0.txt")
                    }
                }
                developers {
                    developer {
                        id.set("tvpass")
                        name.set("The tvpass developers")
                    }
                }
                scm {
                    url.set("https://github.com/tvpass/tvpass")
                    connection.set("scm:git:https://github.com/tvpass/tvpass.git")
                }
            }
        }
    }
    repositories {
        maven {
            name = "local"
            url = uri(layout.buildDirectory.dir("repo"))
        }
        // Maven Central through the Central Portal's staging API (the release workflow then
        // hands the upload to the portal); credentials and the signing key come from the
        // workflow's secrets as Gradle properties.
        maven {
            name = "mavenCentral"
            url = uri("https://ossrh-staging-api.central.sonatype.com/service/local/staging/deploy/maven2/")
            credentials {
                username = findProperty("mavenCentralUsername") as String?
                password = findProperty("mavenCentralPassword") as String?
            }
        }
    }
}

signing {
    val key = findProperty("signingInMemoryKey") as String?
    if (key != null) {
        useInMemoryPgpKeys(key, findProperty("signingInMemoryKeyPassword") as String?)
        sign(publishing.publications["release"])
    }
}
