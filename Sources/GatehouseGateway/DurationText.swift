/// Durations as the configuration writes them: `90s`, `30m`, `8h`, `7d` (DESIGN §2).
public enum DurationText {
    /// Parses a positive whole number followed by `s`, `m`, `h` or `d`; `nil` otherwise.
    public static func parse(_ text: String) -> Duration? {
        guard let unit = text.last, let value = Int64(text.dropLast()), value > 0 else { return nil }
        let seconds: Int64
        switch unit {
        case "s": seconds = value
        case "m": seconds = value * 60
        case "h": seconds = value * 3600
        case "d": seconds = value * 86_400
        default: return nil
        }
        guard seconds <= 366 * 86_400 * 10 else { return nil }
        return .seconds(seconds)
    }
}
