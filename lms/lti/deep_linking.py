"""Deep linking: the modules a teacher may place in a course, and the signed
``LtiDeepLinkingResponse`` that sends the chosen one back to the platform."""

from __future__ import annotations

import sqlalchemy as sa
from flask import current_app
from pylti1p3.deep_link import DeepLink
from pylti1p3.deep_link_resource import DeepLinkResource
from pylti1p3.lineitem import LineItem

from lms import audit
from lms.catalog.models import Module
from lms.extensions import db
from lms.lti import claims
from lms.lti.models import LaunchToken
from lms.lti.tokens import consume_token
from lms.lti.tool import registration_for

#: The grade-book maximum of the line items we ask platforms to create (a percentage).
LINE_ITEM_MAXIMUM = 100


def choosable_modules() -> list[Module]:
    """Modules a teacher may place in a course: enabled, with a version to serve."""
    return list(
        db.session.scalars(
            sa.select(Module)
            .where(Module.status == "enabled", Module.current_version_id.is_not(None))
            .options(sa.orm.joinedload(Module.current_version))
            .order_by(Module.id)
        )
    )


def module_url(module: Module) -> str:
    return current_app.config["PUBLIC_BASE_URL"].rstrip("/") + f"/modules/{module.id}"


def deep_link_response(row: LaunchToken, module: Module, language: str) -> tuple[str, str]:
    """Use a deep-linking token: return the signed ``LtiDeepLinkingResponse`` JWT (one
    ``ltiResourceLink`` to ``module``, with a line item) and the platform's return URL.

    Audited. Raises ``LaunchRefused("token")`` when the token was used meanwhile.
    """
    consume_token(row)
    platform, settings = row.platform, row.payload["settings"]
    title = module.current_version.title
    name = title.get(language) or title.get("en") or module.id
    line_item = (
        LineItem()
        .set_score_maximum(LINE_ITEM_MAXIMUM)
        .set_label(name)
        .set_resource_id(module.id)
        .set_tag("quiz")
    )
    resource = (
        DeepLinkResource()
        .set_url(module_url(module))
        .set_title(name)
        .set_custom_params({claims.MODULE_PARAMETER: module.id})
        .set_lineitem(line_item)
    )
    deep_link = DeepLink(registration_for(platform), row.payload["deployment_id"], settings)
    message = deep_link.get_message_jwt([resource])
    if message.get(claims.DEEP_LINKING_DATA) is None:
        message.pop(claims.DEEP_LINKING_DATA, None)
    audit.record(
        "lti.deep_link.chosen",
        actor_label=f"lti:{platform.issuer} {row.payload['subject']}"[:254],
        organisation_id=platform.organisation_id,
        target_type="module",
        target_id=module.id,
        details={"platform": platform.id, "context": row.payload.get("context_title")},
    )
    return deep_link.encode_jwt(message), settings["deep_link_return_url"]
