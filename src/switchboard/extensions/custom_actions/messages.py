"""Success and error messages of a custom-action run (protocol notes §4.4).

Templates may use `{{actionName}}`, `{{extensionName}}` and `{{resourceName}}`; replacement is plain text
(no escaping, unknown placeholders stay as written). A blank template falls back to CloudStack's defaults
"Successfully completed <action>" / "Failed to complete <action>".
"""

from __future__ import annotations

from dataclasses import dataclass

__all__ = ["MessageContext", "render", "render_error", "render_success"]


@dataclass(frozen=True, kw_only=True)
class MessageContext:
    """What the placeholders stand for. `resource_name` is the resource's name, or its type's name when the
    resource has none."""

    action_name: str
    extension_name: str
    resource_name: str


def render(template: str, context: MessageContext) -> str:
    """`template` with the three placeholders replaced."""
    return (
        template.replace("{{actionName}}", context.action_name)
        .replace("{{extensionName}}", context.extension_name)
        .replace("{{resourceName}}", context.resource_name)
    )


def render_success(template: str | None, context: MessageContext) -> str:
    if not template or not template.strip():
        return f"Successfully completed {context.action_name}"
    return render(template, context)


def render_error(template: str | None, context: MessageContext) -> str:
    if not template or not template.strip():
        return f"Failed to complete {context.action_name}"
    return render(template, context)
