import Metrics

/// Counters of the login flow, through swift-metrics (Prometheus in the gateway):
/// `gatehouse_logins_total{result=…}` and `gatehouse_sign_outs_total`.
enum AuthMetrics {
    enum LoginResult: String {
        case started
        case succeeded
        case failed
        case denied
        case unknownState = "unknown_state"
        case bindingMismatch = "binding_mismatch"
        case tooManyInFlight = "too_many_in_flight"
        case idpUnavailable = "idp_unavailable"
    }

    static func login(_ result: LoginResult) {
        Counter(label: "gatehouse_logins_total", dimensions: [("result", result.rawValue)]).increment()
    }

    static func signOut() {
        Counter(label: "gatehouse_sign_outs_total").increment()
    }
}
