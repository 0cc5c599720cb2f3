extension GatewayConfiguration {
    /// `GATEHOUSE_MIN_BODY_RATE` (bytes per second, `0` turns the check off) and
    /// `GATEHOUSE_MIN_BODY_RATE_WINDOW` (a duration of at least 1s).
    mutating func loadBodyRate(_ values: ConfigValues) throws {
        var rate = minimumBodyRate ?? MinimumBodyRate()
        if let text = values.string("MIN_BODY_RATE") {
            guard let bytes = Int(text), bytes >= 0, bytes <= 1 << 30 else {
                throw ConfigurationError("GATEHOUSE_MIN_BODY_RATE", "must be a number of bytes per second (0 turns the check off)")
            }
            rate.bytesPerSecond = bytes
        }
        if let text = values.string("MIN_BODY_RATE_WINDOW") {
            rate.window = try ConfigParsing.duration(text, variable: "GATEHOUSE_MIN_BODY_RATE_WINDOW")
            guard rate.window >= .seconds(1) else {
                throw ConfigurationError("GATEHOUSE_MIN_BODY_RATE_WINDOW", "must be at least 1s")
            }
        }
        minimumBodyRate = rate.bytesPerSecond > 0 ? rate : nil
    }
}
