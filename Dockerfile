# One image for every service of the shop and their migrations, and one (`standins`) for the
# local stand-ins, which need tools the services do not (requirements/standins.lock). The
# container's arguments choose what runs (`python -m <args>`):
#   docker build -t shop:dev .   &&   docker build --target standins -t shop-standins:dev .
#   docker run shop:dev services.orders serve      (or: services.orders migrate)
# The gateway is its own target: the stock unprivileged nginx image with the storefront's
# static files and deploy/k8s/base/gateway/nginx.conf:
#   docker build --target gateway -t shop-gateway:dev .

# --- build: the project and its locked dependencies as wheels (no dev tools) ---
# The downloads are checked against the lock's hashes (requirements/, make lock); the
# stand-ins' extra tools (aiosmtpd...) go to a wheel directory of their own.
FROM python:3.11-slim-bookworm AS build
ENV PIP_NO_CACHE_DIR=1 PIP_DISABLE_PIP_VERSION_CHECK=1
WORKDIR /src
COPY requirements ./requirements
RUN pip wheel --require-hashes --wheel-dir /wheels -r requirements/shop.lock \
    && pip wheel --require-hashes --wheel-dir /standins -r requirements/standins.lock
COPY pyproject.toml ./
COPY shared ./shared
COPY services ./services
COPY deploy ./deploy
RUN pip wheel --no-deps --wheel-dir /wheels . && cp /wheels/privacy_shop-*.whl /standins/

# --- gateway: nginx, the storefront and the shop's config (Kubernetes mounts the same file) ---
FROM nginxinc/nginx-unprivileged:1.27-alpine AS gateway
COPY storefront/public /usr/share/shop-storefront
COPY deploy/k8s/base/gateway/nginx.conf /etc/shop-gateway/nginx.conf
EXPOSE 8080
ENTRYPOINT ["sh", "-c", "mkdir -p /tmp/nginx/tmp/body /tmp/nginx/tmp/proxy /tmp/nginx/tmp/fastcgi /tmp/nginx/tmp/uwsgi /tmp/nginx/tmp/scgi && exec nginx -p /tmp/nginx/ -e /dev/stderr -c /etc/shop-gateway/nginx.conf"]

# --- base: Python and a user without privileges ---
FROM python:3.11-slim-bookworm AS base
ENV PYTHONUNBUFFERED=1 PYTHONDONTWRITEBYTECODE=1 PIP_NO_CACHE_DIR=1 \
    PIP_DISABLE_PIP_VERSION_CHECK=1
RUN groupadd --gid 10001 shop \
    && useradd --uid 10001 --gid shop --no-create-home --home-dir /nonexistent \
       --shell /usr/sbin/nologin shop
WORKDIR /tmp
ENTRYPOINT ["python", "-m"]

# --- standins: the services' wheels plus the stand-ins' tools (compose's smtp-sink, sandboxes) ---
#   docker build --target standins -t shop-standins:dev .
FROM base AS standins
RUN --mount=type=bind,from=build,source=/standins,target=/standins \
    pip install --no-index --no-deps /standins/*.whl \
    && python -m compileall -q /usr/local/lib/python3.11/site-packages
USER 10001:10001
CMD ["deploy.smtp_sink", "--host", "0.0.0.0"]

# --- runtime (the default target): the wheels installed, nothing to build with, a user without privileges ---
FROM base AS runtime
RUN --mount=type=bind,from=build,source=/wheels,target=/wheels \
    pip install --no-index --no-deps /wheels/*.whl \
    && python -m compileall -q /usr/local/lib/python3.11/site-packages
USER 10001:10001
EXPOSE 8101 8102 8103 8104
CMD ["services.catalog", "serve"]
