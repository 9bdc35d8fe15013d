"""Message templates of §4.4: the three placeholders, plain replacement, CloudStack's defaults."""

from __future__ import annotations

from switchboard.extensions.custom_actions.messages import MessageContext, render_error, render_success

CONTEXT = MessageContext(action_name="CreateSnapshot", extension_name="Proxmox", resource_name="i-2-12-VM")


def test_placeholders_are_replaced_everywhere_and_nothing_else_is() -> None:
    template = "{{actionName}} for {{resourceName}} in {{extensionName}} ({{resourceName}}) {{other}} <b>&</b>"
    assert render_success(template, CONTEXT) == \
        "CreateSnapshot for i-2-12-VM in Proxmox (i-2-12-VM) {{other}} <b>&</b>"
    assert render_error("{{ actionName }} failed", CONTEXT) == "{{ actionName }} failed"


def test_blank_templates_fall_back_to_cloudstacks_defaults() -> None:
    for blank in (None, "", "   "):
        assert render_success(blank, CONTEXT) == "Successfully completed CreateSnapshot"
        assert render_error(blank, CONTEXT) == "Failed to complete CreateSnapshot"
