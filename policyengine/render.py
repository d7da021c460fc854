"""A decision as plain text, for a person at a terminal (views are separate from data)."""
from __future__ import annotations


def render_text(decision: dict) -> str:
    pack = decision["pack"]
    lines = [f"{decision['patient_id']}  {decision['month']}  pack {pack['id']} {pack['version']}",
             f"total ${decision['total']}", ""]
    lines.append("billable:" if decision["billable"] else "billable: nothing")
    for line in decision["billable"]:
        lines.append(f"  {line['code']} x{line['units']}  ${line['amount']}  {line['reason']}  [{line['rule']}]")
    if decision["not_billable"]:
        lines.append("not billable:")
    for line in decision["not_billable"]:
        lines.append(f"  {line['code']}  {line['status']}: {line['reason']}  [{line['rule']}]")
    if decision["findings"]:
        lines.append("findings:")
    for finding in decision["findings"]:
        evidence = f"  ({', '.join(finding['evidence'])})" if finding["evidence"] else ""
        stake = f"  at stake ${finding['amount_at_stake']}" if finding.get("amount_at_stake") is not None else ""
        lines.append(f"  {finding['severity']}: {finding['message']}{evidence}  [{finding['id']}]{stake}")
    for title, listed, worth in (("still to earn", decision["opportunities"], "adds"),
                                 ("out of reach", decision.get("out_of_reach", ()), "would have added")):
        if listed:
            lines.append(f"{title}:")
        lines += [f"  {item['code']}  {item['message']}  ({worth} ${item['adds']})" for item in listed]
    options = ", ".join(f"{k}={str(v).lower() if isinstance(v, bool) else v}" for k, v in decision["options"].items())
    lines.append(f"options: {options}")
    return "\n".join(lines) + "\n"
