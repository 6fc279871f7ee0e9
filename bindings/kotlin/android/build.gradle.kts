// Android library (AAR) of the tvpass Kotlin bindings: the generated Kotlin sources, the
// native library for each ABI under jniLibs (built by build-aar.sh with cargo-ndk), the ready
// KeystoreStorage and LogcatLogger, and the backup rules for the storage's file. The same sources
// are compiled and tested on the JVM by pom.xml (Robolectric), against the android-all jar of
// minSdk and of compileSdk.
plugins {
    id("com.android.library") version "8.7.3"
    id("org.jetbrains.kotlin.android") version "2.1.0"
    id("maven-publish")
}

group = "dev.tvpass"
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
        }
    }
    repositories {
        maven {
            name = "local"
            url = uri(layout.buildDirectory.dir("repo"))
        }
    }
}
