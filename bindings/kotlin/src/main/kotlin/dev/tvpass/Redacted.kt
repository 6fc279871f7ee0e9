package dev.tvpass

/**
 * Text that never prints: the software statement and the device id ([ClientConfig]), a header's
 * value ([HttpHeader.value]), a media token ([MediaToken.serialized]) or a profile attribute's
 * value ([Attribute.value], user identifiers among them). [value] is the text; [toString] shows
 * `***`, so logging a [ClientConfig], an [HttpResponse], a [Decision] or a [Profile] leaks none.
 */
class Redacted(val value: String) {
    override fun toString(): String = "***"

    override fun equals(other: Any?): Boolean = other is Redacted && other.value == value

    override fun hashCode(): Int = value.hashCode()
}
