package dev.tvpass

/**
 * Text that never prints: a media token ([MediaToken.serialized]) or a profile attribute's value
 * ([Attribute.value], user identifiers among them). [value] is the text; [toString] shows `***`,
 * so logging a [Decision] or a [Profile] leaks neither.
 */
class Redacted(val value: String) {
    override fun toString(): String = "***"

    override fun equals(other: Any?): Boolean = other is Redacted && other.value == value

    override fun hashCode(): Int = value.hashCode()
}
