/// Reading `/metrics` answers in tests.
enum PrometheusText {
    /// The value of the sample line that names exactly `series` (with its labels), or `nil`.
    static func value(of series: String, in text: String) -> Double? {
        text.split(separator: "\n").first { $0.hasPrefix(series + " ") }
            .flatMap { Double($0.dropFirst(series.count + 1)) }
    }
}
