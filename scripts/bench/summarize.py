"""Tables, ratios and targets for scripts/bench.sh from its results file.

Each line of the results file: PHASE CONTENDER ROUND JSON (wrk's summary from report.lua,
or login.py's). Figures are medians over the rounds; every round is listed as well.

  summarize.py RESULTS --half-peak     print half of gatehouse's median peak req/s (an integer)
  summarize.py RESULTS [--threads …]   print the report
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
}
ORDER = ["upstream", "nginx", "apache", "gatehouse", "gatehouse-router"]


def load(path):
    data = {}
    with open(path) as f:
        for line in f:
            line = line.strip()
            if not line:
                continue
            phase, who, rnd, payload = line.split(" ", 3)
            data.setdefault(phase, {}).setdefault(who, []).append((int(rnd), json.loads(payload)))
    return data


def med(runs, key):
    values = [r[key] for _, r in runs if r.get(key) is not None]
    return statistics.median(values) if values else None


def ms(us):
    return f"{us / 1000:.2f} ms" if us is not None else "-"


def verdict(ok):
    return "MET" if ok else "NOT MET"


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("results")
    parser.add_argument("--half-peak", action="store_true")
    parser.add_argument("--threads", default="2")
    parser.add_argument("--connections", default="64")
    parser.add_argument("--paced-connections", default="32")
    parser.add_argument("--duration", default="10s")
    parser.add_argument("--rounds", default="3")
    args = parser.parse_args()
    data = load(args.results)

    if args.half_peak:
        print(int(med(data["peak"]["gatehouse"], "rps") / 2))
        return 0

    out = []
    p = out.append
    peak = data.get("peak", {})
    if peak:
        p(f"== 1. peak: wrk -t{args.threads} -c{args.connections} -d{args.duration} --latency, "
          f"session cookie; median of {args.rounds} interleaved rounds ==")
        p(f"{'contender':34} {'req/s':>10} {'p50':>10} {'p99':>10} {'B/resp':>7} {'bad':>5}   req/s per round")
        for who in ORDER:
            runs = peak.get(who)
            if not runs:
                continue
            per_round = " ".join(f"{r['rps']:.0f}" for _, r in sorted(runs, key=lambda x: x[0]))
            bytes_per = med(runs, "bytes") / max(1, med(runs, "requests"))
            bad = sum(r["bad"] for _, r in runs)
            p(f"{NAMES[who]:34} {med(runs, 'rps'):>10.0f} {ms(med(runs, 'p50_us')):>10} "
              f"{ms(med(runs, 'p99_us')):>10} {bytes_per:>7.0f} {bad:>5}   {per_round}")
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
        target_rate = int(gh / 2)
        p(f"== 2. fixed rate = half of gatehouse's peak (~{target_rate}/s): wrk -t{args.threads} "
          f"-c{args.paced_connections} -d{args.duration} paced by scripts/bench/paced.lua "
          f"(1 ms timer ticks); median of {args.rounds} rounds ==")
        p(f"{'contender':34} {'achieved/s':>10} {'p50':>10} {'p99':>10} {'p99.9':>10} {'p99 added':>10}")
        base99 = med(half["upstream"], "p99_us")
        base50 = med(half["upstream"], "p50_us")
        for who in ORDER:
            runs = half.get(who)
            if not runs:
                continue
            added = med(runs, "p99_us") - base99
            p(f"{NAMES[who]:34} {med(runs, 'rps'):>10.0f} {ms(med(runs, 'p50_us')):>10} "
              f"{ms(med(runs, 'p99_us')):>10} {ms(med(runs, 'p999_us')):>10} "
              f"{'-' if who == 'upstream' else ms(added):>10}")
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
    print("\n".join(out))
    return 0


if __name__ == "__main__":
    sys.exit(main())
