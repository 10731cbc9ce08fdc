"""The customers JSON API: thin handlers per resource (parse, call accounts / the PD gate,
answer), their one error mapping (``errors.py``) and the route table below."""

from __future__ import annotations

from aiohttp import web

from . import auth, blocking, erasure, internal, me, policy, privacy, requests, support


def add_routes(app: web.Application) -> None:
    prefix = "/api/customers"
    app.router.add_get(f"{prefix}/policy", policy.get_policy)
    app.router.add_get(f"{prefix}/.well-known/jwks.json", policy.get_jwks)
    app.router.add_post(f"{prefix}/register", auth.register)
    app.router.add_post(f"{prefix}/login", auth.login)
    app.router.add_post(f"{prefix}/staff/login", auth.staff_login)
    app.router.add_post(f"{prefix}/token/refresh", auth.refresh_token)
    app.router.add_post(f"{prefix}/logout", auth.logout)
    app.router.add_post(f"{prefix}/policy/versions", policy.publish_policy)
    app.router.add_post(f"{prefix}/me/password", auth.change_password)
    app.router.add_post(f"{prefix}/me/policy-acceptance", policy.accept_policy)
    app.router.add_get(f"{prefix}/me", me.get_me)
    app.router.add_patch(f"{prefix}/me", me.patch_me)
    app.router.add_delete(f"{prefix}/me", erasure.delete_me)
    app.router.add_get(f"{prefix}/me/disclosures", me.get_disclosures)
    app.router.add_get(f"{prefix}/me/consents", me.get_consents)
    app.router.add_put(f"{prefix}/me/consents", me.put_consents)
    app.router.add_get(f"{prefix}/me/export", me.get_export)
    app.router.add_post(f"{prefix}/me/requests", requests.post_request)
    app.router.add_get(f"{prefix}/me/requests", requests.get_requests)
    desk = f"{prefix}/privacy"
    app.router.add_get(f"{desk}/requests", privacy.list_requests)
    app.router.add_get(f"{desk}/requests/{{request_id}}", privacy.get_request)
    app.router.add_post(f"{desk}/requests/{{request_id}}/resolve", privacy.resolve_request)
    app.router.add_get(f"{desk}/breaches", privacy.list_breaches)
    app.router.add_post(f"{desk}/breaches", privacy.post_breach)
    app.router.add_get(f"{desk}/breaches/{{breach_id}}", privacy.get_breach)
    app.router.add_patch(f"{desk}/breaches/{{breach_id}}", privacy.patch_breach)
    app.router.add_get(f"{desk}/breaches/{{breach_id}}/notice", privacy.get_notice)
    app.router.add_post(f"{desk}/breaches/{{breach_id}}/notice-sent", privacy.post_notice_sent)
    app.router.add_get(f"{desk}/legal-disclosures", privacy.list_legal_disclosures)
    app.router.add_post(f"{desk}/legal-disclosures", privacy.post_legal_disclosure)
    app.router.add_post(f"{prefix}/support/contact-lookups", support.post_contact_lookup)
    app.router.add_post(f"{prefix}/me/block", blocking.block_me)
    app.router.add_delete(f"{prefix}/me/block", blocking.unblock_me)
    officer_block = f"{desk}/customers/{{customer_id}}/block"
    app.router.add_post(officer_block, blocking.officer_block)
    app.router.add_delete(officer_block, blocking.officer_unblock)
    app.router.add_post("/internal/releases", internal.post_release)
    app.router.add_get("/internal/audiences", internal.get_audience)
    app.router.add_post("/internal/contact-batches", internal.post_contact_batch)
    app.router.add_post("/internal/sms-stops", internal.post_sms_stop)
