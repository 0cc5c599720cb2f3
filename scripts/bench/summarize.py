"""Tables, ratios and targets for scripts/bench.sh from its results file.

Each line of the results file: PHASE CONTENDER ROUND JSON (wrk's summary from report.lua,
with the server's CPU over the run as cpu_ms, or login.py's). Figures are medians over the
rounds; every round is listed as well.

  summarize.py RESULTS --half-peak       print half of gatehouse's median peak req/s (an integer)
  summarize.py RESULTS --baseline-check  exit 1 unless gatehouse holds issue 10's rule against
                                         gatehouse-baseline (peak phase, medians): req/s at
                                         least 95 %, CPU per request at most 105 % of its
  summarize.py RESULTS [--threads …]     print the report
"""
import argparse
import json
import statistics
import sys

NAMES = {
    "upstream": "upstream (nginx static, direct)",
    "nginx": "nginx reverse proxy",
    "apache": "Apache + mod_auth_openidc",
    "gatehouse": "gatehouse serve",
    "gatehouse-router": "(baseline) gatehouse, router path",
    "gatehouse-baseline": "gatehouse, baseline build",
    "gatehouse-routes": "gatehouse, 20 routes (20th matches)",
}
ORDER = ["upstream", "nginx", "apache", "gatehouse", "gatehouse-routes", "gatehouse-router", "gatehouse-baseline"]
# Issue 10: the current code against the commit before its security fixes.
TOLERANCE = 0.05


def load(path):
    data = {}
    with open(path) as f:
        for line in f:
            line = line.strip()
            if not line:
                continue
            phase, who, rnd, payload = line.split(" ", 3)
            run = json.loads(payload)
            if run.get("cpu_ms") is not None and run.get("requests"):
                run["cpu_us_per_request"] = run["cpu_ms"] * 1000 / run["requests"]
            data.setdefault(phase, {}).setdefault(who, []).append((int(rnd), run))
    return data


def med(runs, key):
    values = [r[key] for _, r in runs if r.get(key) is not None]
    return statistics.median(values) if values else None


def ms(us):
    return f"{us / 1000:.2f} ms" if us is not None else "-"


def verdict(ok):
    return "MET" if ok else "NOT MET"


def us(value):
    return f"{value:.1f} µs" if value is not None else "-"


def round_ratios(phase, a, b, key):
    """a's value over b's in each round both ran (they ran back to back)."""
    ra = dict((n, r.get(key)) for n, r in phase.get(a, []))
    rb = dict((n, r.get(key)) for n, r in phase.get(b, []))
    return [ra[n] / rb[n] for n in sorted(ra) if ra[n] is not None and rb.get(n)]


def baseline_ratios(data):
    """(req/s ratio, CPU per request ratio) of gatehouse over gatehouse-baseline, peak medians."""
    peak = data.get("peak", {})
    if "gatehouse" not in peak or "gatehouse-baseline" not in peak:
        return None
    cur, old = peak["gatehouse"], peak["gatehouse-baseline"]
    rps = med(cur, "rps") / med(old, "rps")
    cpu_cur, cpu_old = med(cur, "cpu_us_per_request"), med(old, "cpu_us_per_request")
    cpu = cpu_cur / cpu_old if cpu_cur is not None and cpu_old else None
    return rps, cpu


def baseline_holds(ratios):
    rps, cpu = ratios
    return rps >= 1 - TOLERANCE and cpu is not None and cpu <= 1 + TOLERANCE


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("results")
    parser.add_argument("--half-peak", action="store_true")
    parser.add_argument("--threads", default="2")
    parser.add_argument("--connections", default="64")
    parser.add_argument("--paced-connections", default="32")
    parser.add_argument("--duration", default="10s")
    parser.add_argument("--rounds", default="3")
    parser.add_argument("--baseline-check", action="store_true")
    parser.add_argument("--current", default="working tree", help="label of the current code")
    parser.add_argument("--baseline", default="", help="label of the baseline commit")
    args = parser.parse_args()
    data = load(args.results)

    if args.half_peak:
        print(int(med(data["peak"]["gatehouse"], "rps") / 2))
        return 0
    if args.baseline_check:
        ratios = baseline_ratios(data)
        return 0 if ratios is not None and baseline_holds(ratios) else 1

    out = []
    p = out.append
    peak = data.get("peak", {})
    if peak:
        p(f"== 1. peak: wrk -t{args.threads} -c{args.connections} -d{args.duration} --latency, "
          f"session cookie; median of {args.rounds} interleaved rounds ==")
        p(f"{'contender':34} {'req/s':>10} {'p50':>10} {'p99':>10} {'B/resp':>7} {'bad':>5} "
          f"{'CPU/req':>9}   req/s per round")
        for who in ORDER:
            runs = peak.get(who)
            if not runs:
                continue
            rps_rounds = " ".join(f"{r['rps']:.0f}" for _, r in sorted(runs, key=lambda x: x[0]))
            bytes_per = med(runs, "bytes") / max(1, med(runs, "requests"))
            bad = sum(r["bad"] for _, r in runs)
            p(f"{NAMES[who]:34} {med(runs, 'rps'):>10.0f} {ms(med(runs, 'p50_us')):>10} "
              f"{ms(med(runs, 'p99_us')):>10} {bytes_per:>7.0f} {bad:>5} "
              f"{us(med(runs, 'cpu_us_per_request')):>9}   {rps_rounds}")
        p("(CPU/req: the serving processes' user + system CPU over the run per request; nginx's "
          "workers serve both the upstream and its proxy, Apache's row leaves the upstream out)")
    if peak and all(w in peak for w in ("gatehouse", "apache", "nginx")):
        gh, ap, ng = (med(peak[w], "rps") for w in ("gatehouse", "apache", "nginx"))
        # Ratios per round too (the contenders of one round ran back to back).
        def per_round_ratio(a, b):
            ra = dict((n, r["rps"]) for n, r in peak[a])
            rb = dict((n, r["rps"]) for n, r in peak[b])
            return " ".join(f"{ra[n] / rb[n]:.2f}" for n in sorted(ra) if n in rb)
        p("")
        p(f"gatehouse / mod_auth_openidc req/s = {gh / ap:.2f}x   (per round: {per_round_ratio('gatehouse', 'apache')})"
          f"   target >= 1.5x: {verdict(gh / ap >= 1.5)}")
        p(f"gatehouse / nginx proxy req/s      = {100 * gh / ng:.1f}%  (per round: {per_round_ratio('gatehouse', 'nginx')})"
          f"   target >= 70%: {verdict(gh / ng >= 0.7)}")
        p(f"mod_auth_openidc / nginx proxy     = {100 * ap / ng:.1f}%")

    half = data.get("half", {})
    if peak and half:
        p("")
        target_rate = int(med(peak["gatehouse"], "rps") / 2)
        p(f"== 2. fixed rate = half of gatehouse's peak (~{target_rate}/s): wrk -t{args.threads} "
          f"-c{args.paced_connections} -d{args.duration} paced by scripts/bench/paced.lua "
          f"(1 ms timer ticks); median of {args.rounds} rounds ==")
        p(f"{'contender':34} {'achieved/s':>10} {'p50':>10} {'p99':>10} {'p99.9':>10} {'p99 added':>10} {'CPU/req':>9}")
        base99 = med(half["upstream"], "p99_us")
        base50 = med(half["upstream"], "p50_us")
        for who in ORDER:
            runs = half.get(who)
            if not runs:
                continue
            added = med(runs, "p99_us") - base99
            p(f"{NAMES[who]:34} {med(runs, 'rps'):>10.0f} {ms(med(runs, 'p50_us')):>10} "
              f"{ms(med(runs, 'p99_us')):>10} {ms(med(runs, 'p999_us')):>10} "
              f"{'-' if who == 'upstream' else ms(added):>10} {us(med(runs, 'cpu_us_per_request')):>9}")
        # Added latency per round: same round, same conditions.
        gh_r = dict((n, r) for n, r in half["gatehouse"])
        up_r = dict((n, r) for n, r in half["upstream"])
        added_rounds = [gh_r[n]["p99_us"] - up_r[n]["p99_us"] for n in sorted(gh_r) if n in up_r]
        added = med(half["gatehouse"], "p99_us") - base99
        p("")
        p(f"gatehouse p99 added over the upstream alone at ~{target_rate}/s = {ms(added)} "
          f"(per round: {', '.join(ms(a) for a in added_rounds)}; p50 added {ms(med(half['gatehouse'], 'p50_us') - base50)})"
          f"   target < 1 ms: {verdict(added < 1000)}")

    c8 = data.get("c8", {})
    if c8:
        p("")
        p(f"== 3. closed loop, low concurrency: wrk -t{args.threads} -c8 -d{args.duration}; median ==")
        p("(each contender at its own rate, so no 'added' column: the upstream alone runs far faster)")
        p(f"{'contender':34} {'req/s':>10} {'p50':>10} {'p99':>10}")
        for who in ORDER:
            runs = c8.get(who)
            if runs:
                p(f"{NAMES[who]:34} {med(runs, 'rps'):>10.0f} {ms(med(runs, 'p50_us')):>10} "
                  f"{ms(med(runs, 'p99_us')):>10}")

    logins = data.get("login", {})
    if logins:
        p("")
        p("== 4. full logins (GET / -> IdP authorize -> login form POST -> callback -> /), "
          "python requests, fresh cookie jar each ==")
        p(f"{'contender':34} {'logins/s':>10} {'ok':>5} {'failed':>6} {'p50':>10} {'p99':>10}   logins/s per round")
        for who in ("apache", "gatehouse"):
            runs = logins.get(who)
            if not runs:
                continue
            per_round = " ".join(f"{r['logins_per_s']:.1f}" for _, r in sorted(runs, key=lambda x: x[0]))
            p(f"{NAMES[who]:34} {med(runs, 'logins_per_s'):>10.1f} {sum(r['ok'] for _, r in runs):>5} "
              f"{sum(r['failed'] for _, r in runs):>6} {med(runs, 'p50_ms'):>7.1f} ms {med(runs, 'p99_ms'):>7.1f} ms"
              f"   {per_round}")
            cpu = [med(runs, k) for k in ("idp_cpu_ms", "rp_cpu_ms", "client_cpu_ms")]
            if all(c is not None for c in cpu):
                p(f"{'':34} CPU per login: IdP {cpu[0]:.1f} ms, relying party {cpu[1]:.1f} ms, "
                  f"scripted browser {cpu[2]:.1f} ms")
            hops = runs[-1][1].get("hops")
            if hops:
                ordered = sorted(hops.items(), key=lambda item: int(item[0].split(".")[0]))
                p(f"{'':34} hops (p50 ms, last round): " + ", ".join(
                    f"{name.split(' ', 1)[1]} {ms:.1f}" for name, ms in ordered))
            errors = [r["first_error"] for _, r in runs if r.get("first_error")]
            if errors:
                p(f"    first error: {errors[0]}")
        if "apache" in logins and "gatehouse" in logins:
            g, a = med(logins["gatehouse"], "logins_per_s"), med(logins["apache"], "logins_per_s")
            p("")
            gr = dict((n, r["logins_per_s"]) for n, r in logins["gatehouse"])
            ar = dict((n, r["logins_per_s"]) for n, r in logins["apache"])
            rounds = " ".join(f"{gr[n] / ar[n]:.2f}" for n in sorted(gr) if n in ar)
            p(f"gatehouse / mod_auth_openidc logins/s = {g / a:.2f}x   (per round: {rounds})"
              f"   target >= 1x: {verdict(g >= a)}")
    calls = data.get("syscalls", {})
    if calls:
        p("")
        p("== system calls per request under wrk -c64 -d4s (strace -c -f, separate runs, not timed) ==")
        per = {w: r[0][1]["calls"] / r[0][1]["requests"] for w, r in calls.items()}
        for who in ("upstream", "nginx", "gatehouse"):
            if who in per:
                note = {"upstream": "nginx workers serving the file",
                        "nginx": "nginx workers: proxy + upstream together",
                        "gatehouse": "gatehouse process only (upstream not counted)"}[who]
                p(f"{NAMES[who]:34} {per[who]:>6.1f} per request   ({note})")
        if "upstream" in per and "nginx" in per:
            p(f"{'  => nginx proxy alone':34} {per['nginx'] - per['upstream']:>6.1f} per request   (nginx - upstream)")
    peak = data.get("peak", {})
    if "gatehouse" in peak and "gatehouse-routes" in peak:
        one, many = peak["gatehouse"], peak["gatehouse-routes"]
        cpu_one = med(one, "cpu_us_per_request")
        cpu_ratio = med(many, "cpu_us_per_request") / cpu_one if cpu_one else float("nan")
        rps_r = round_ratios(peak, "gatehouse-routes", "gatehouse", "rps")
        cpu_r = round_ratios(peak, "gatehouse-routes", "gatehouse", "cpu_us_per_request")
        p("")
        p("== 20 routes against the one default route (issue 11; peak medians, same binary, interleaved) ==")
        p(f"20 routes / 1 route: req/s {med(many, 'rps') / med(one, 'rps'):.3f}, CPU per request {cpu_ratio:.3f}"
          f"   per round: req/s {' '.join(f'{x:.3f}' for x in rps_r)}, CPU/req {' '.join(f'{x:.3f}' for x in cpu_r)}")
    ratios = baseline_ratios(data)
    if ratios is not None:
        p("")
        p(f"== gatehouse {args.current} against its baseline {args.baseline or 'build'} "
          f"(same configuration, own port and store, interleaved in every round) ==")
        p(f"{'phase':6} {'build':22} {'req/s':>10} {'CPU/req':>10} {'p99':>10}   req/s and CPU/req per round")
        for phase_name in ("peak", "half"):
            phase = data.get(phase_name, {})
            if "gatehouse" not in phase or "gatehouse-baseline" not in phase:
                continue
            for who, label in (("gatehouse", f"current {args.current}"),
                               ("gatehouse-baseline", f"baseline {args.baseline}")):
                runs = sorted(phase[who], key=lambda x: x[0])
                rounds = ", ".join(f"{r['rps']:.0f}/{us(r.get('cpu_us_per_request'))}" for _, r in runs)
                p(f"{phase_name:6} {label:22} {med(runs, 'rps'):>10.0f} "
                  f"{us(med(runs, 'cpu_us_per_request')):>10} {ms(med(runs, 'p99_us')):>10}   {rounds}")
            rps_r = round_ratios(phase, "gatehouse", "gatehouse-baseline", "rps")
            cpu_r = round_ratios(phase, "gatehouse", "gatehouse-baseline", "cpu_us_per_request")
            cur, old = phase["gatehouse"], phase["gatehouse-baseline"]
            cpu_old = med(old, "cpu_us_per_request")
            cpu_ratio = med(cur, "cpu_us_per_request") / cpu_old if cpu_old else float("nan")
            p(f"{phase_name:6} {'current / baseline':22} {med(cur, 'rps') / med(old, 'rps'):>10.3f} "
              f"{cpu_ratio:>10.3f} {'':>10}   per round: req/s {' '.join(f'{x:.3f}' for x in rps_r)}, "
              f"CPU/req {' '.join(f'{x:.3f}' for x in cpu_r)}")
        rps, cpu = ratios
        p("")
        p(f"rule (issue 10, peak phase medians): req/s >= {100 * (1 - TOLERANCE):.0f}% of the baseline's "
          f"({100 * rps:.1f}%: {'PASS' if rps >= 1 - TOLERANCE else 'FAIL'}), "
          f"CPU per request <= {100 * (1 + TOLERANCE):.0f}% of the baseline's "
          f"({'-' if cpu is None else f'{100 * cpu:.1f}%'}: "
          f"{'PASS' if cpu is not None and cpu <= 1 + TOLERANCE else 'FAIL'})   "
          f"=> {'PASS' if baseline_holds(ratios) else 'FAIL'}")
    print("\n".join(out))
    return 0


if __name__ == "__main__":
    sys.exit(main())
