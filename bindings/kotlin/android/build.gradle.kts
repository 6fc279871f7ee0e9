// Android library (AAR) of the tvpass Kotlin bindings: the generated Kotlin sources, the
// native library for each ABI under jniLibs (built by build-aar.sh with cargo-ndk), and the
// ready EncryptedPreferencesStorage.
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
    implementation("androidx.security:security-crypto:1.1.0-alpha06")
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
