"""Explanations of decisions (text, Markdown, HTML) and their re-verification.

    ex = explain(decision)                  # finds the pack by the id and sha256 it names
    render(ex, "markdown")                  # or "text", "html"
    verify_decision(decision, facts)        # re-derives and compares
"""
from __future__ import annotations

from ..packs import CompiledPack, bundled_ids, load_pack
from .build import build_explanation
from .model import Explanation
from .verify import Verification, VerifyInputError, render_verification, verify_decision

FORMATS = ("text", "markdown", "html")


def explain(decision: dict, pack: CompiledPack | str | None = None) -> Explanation:
    """The explanation of a decision. Without `pack`, the bundled pack with the id the
    decision names (the explanation says plainly when its sha256 differs, or when no
    such pack is bundled)."""
    if isinstance(pack, CompiledPack):
        return build_explanation(decision, pack, "given pack")
    if pack is not None:
        return build_explanation(decision, load_pack(pack), f"--pack {pack}")
    pack_id = (decision.get("pack") or {}).get("id")
    if isinstance(pack_id, str) and pack_id in bundled_ids():
        return build_explanation(decision, load_pack(pack_id), "bundled")
    return build_explanation(decision, None, "none")


def render(ex: Explanation, output_format: str) -> str:
    if output_format == "text":
        from .text import render_text
        return render_text(ex)
    if output_format == "markdown":
        from .markdown import render_markdown
        return render_markdown(ex)
    if output_format == "html":
        from .html import render_html
        return render_html(ex)
    raise ValueError(f"format must be one of {', '.join(FORMATS)}")


__all__ = ["FORMATS", "Explanation", "Verification", "VerifyInputError", "explain", "render", "render_verification",
           "verify_decision"]
