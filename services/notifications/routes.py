"""The notifications route table: registered by ``app.py`` and described by ``shared.openapi``."""

from __future__ import annotations

from shared.openapi import Operation, Param

from . import answers
from . import campaign_handlers as campaigns
from .erasure_confirmation import ErasureConfirmation
from .handlers import export_customer, post_erasure_confirmation
from .sms_handlers import InboundBody, ReportBody, sms_inbound, sms_report
from .unsubscribe_handlers import unsubscribe, unsubscribe_page
from .unsubscribe_links import PATH as UNSUBSCRIBE

MARKETER = (campaigns.ROLE,)
ONE = f"{campaigns.PREFIX}/{{campaign_id}}"
TOKEN = Param("token", {"type": "string"}, required=True, description="the link's signed token")
ONE_CLICK = {
    "application/x-www-form-urlencoded": {
        "schema": {
            "type": "object",
            "properties": {"List-Unsubscribe": {"const": "One-Click"}},
            "required": ["List-Unsubscribe"],
            "additionalProperties": False,
        }
    }
}

OPERATIONS: tuple[Operation, ...] = (
    Operation(
        "GET",
        UNSUBSCRIBE,
        unsubscribe_page,
        "The unsubscribe link's page",
        params=(TOKEN,),
        content="text/html",
    ),
    Operation(
        "POST",
        UNSUBSCRIBE,
        unsubscribe,
        "Unsubscribe (RFC 8058 one-click)",
        params=(TOKEN,),
        form=ONE_CLICK,
        content="text/html",
        errors=(413, 415),
    ),
    Operation(
        "POST",
        "/api/notifications/sms/reports",
        sms_report,
        "The SMS provider's signed delivery report",
        body=ReportBody,
        auth="signed",
        response=answers.Applied,
    ),
    Operation(
        "POST",
        "/api/notifications/sms/inbound",
        sms_inbound,
        "A text sent back to the shop (STOP), signed",
        body=InboundBody,
        auth="signed",
        response=answers.StopAnswer,
    ),
    Operation(
        "POST",
        campaigns.PREFIX,
        campaigns.post_campaign,
        "Create a campaign",
        body=campaigns.NewCampaign,
        auth="staff",
        roles=MARKETER,
        status=201,
        errors=(409, 503),
        response=answers.Campaign,
    ),
    Operation(
        "GET",
        campaigns.PREFIX,
        campaigns.list_campaigns,
        "Campaigns, paged",
        query=campaigns.Listing,
        auth="staff",
        roles=MARKETER,
        response=answers.CampaignList,
    ),
    Operation(
        "GET",
        "/api/notifications/staff/campaign.js",
        campaigns.page_script,
        "The campaign page's script",
        content="text/javascript",
    ),
    Operation(
        "GET",
        "/api/notifications/staff/campaign.css",
        campaigns.page_style,
        "The campaign page's style",
        content="text/css",
    ),
    Operation(
        "GET",
        ONE,
        campaigns.get_campaign,
        "One campaign and its progress",
        auth="staff",
        roles=MARKETER,
        response=answers.Campaign,
    ),
    Operation(
        "GET",
        f"{ONE}/page",
        campaigns.campaign_page,
        "The campaign's page for a marketer",
        content="text/html",
    ),
    Operation(
        "POST",
        f"{ONE}/pause",
        campaigns.pause_campaign,
        "Pause a campaign",
        auth="staff",
        roles=MARKETER,
        errors=(409,),
        response=answers.Campaign,
    ),
    Operation(
        "POST",
        f"{ONE}/resume",
        campaigns.resume_campaign,
        "Resume a campaign",
        auth="staff",
        roles=MARKETER,
        errors=(409,),
        response=answers.Campaign,
    ),
    Operation(
        "GET",
        "/internal/customers/{customer_id}/export",
        export_customer,
        "What notifications holds about a customer",
        auth="internal",
        response=answers.CustomerExport,
    ),
    Operation(
        "POST",
        "/internal/erasure-confirmations",
        post_erasure_confirmation,
        "Send a customer's erasure confirmation",
        body=ErasureConfirmation,
        auth="internal",
        errors=(503,),
        response=answers.ConfirmationAnswer,
    ),
)
