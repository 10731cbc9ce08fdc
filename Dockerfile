# One image for every part of the shop: the four services, their migrations and the local
# stand-ins. The container's arguments choose what runs (`python -m <args>`):
#   docker build -t shop:dev .
#   docker run shop:dev services.orders serve      (or: services.orders migrate)
# The gateway is its own target: the stock unprivileged nginx image with the storefront's
# static files and deploy/k8s/base/gateway/nginx.conf:
#   docker build --target gateway -t shop-gateway:dev .

# --- build: the project and its dependencies as wheels (no dev tools) ---
FROM python:3.11-slim-bookworm AS build
ENV PIP_NO_CACHE_DIR=1 PIP_DISABLE_PIP_VERSION_CHECK=1
WORKDIR /src
COPY pyproject.toml ./
COPY shared ./shared
COPY services ./services
COPY deploy ./deploy
RUN pip wheel --wheel-dir /wheels .

# --- gateway: nginx, the storefront and the shop's config (Kubernetes mounts the same file) ---
FROM nginxinc/nginx-unprivileged:1.27-alpine AS gateway
COPY storefront/public /usr/share/shop-storefront
COPY deploy/k8s/base/gateway/nginx.conf /etc/shop-gateway/nginx.conf
EXPOSE 8080
ENTRYPOINT ["sh", "-c", "mkdir -p /tmp/nginx/tmp/body /tmp/nginx/tmp/proxy /tmp/nginx/tmp/fastcgi /tmp/nginx/tmp/uwsgi /tmp/nginx/tmp/scgi && exec nginx -p /tmp/nginx/ -e /dev/stderr -c /etc/shop-gateway/nginx.conf"]

# --- runtime (the default target): the wheels installed, nothing to build with, a user without privileges ---
FROM python:3.11-slim-bookworm AS runtime
ENV PYTHONUNBUFFERED=1 PYTHONDONTWRITEBYTECODE=1 PIP_NO_CACHE_DIR=1 \
    PIP_DISABLE_PIP_VERSION_CHECK=1
RUN --mount=type=bind,from=build,source=/wheels,target=/wheels \
    pip install --no-index --find-links /wheels privacy-shop \
    && python -m compileall -q /usr/local/lib/python3.11/site-packages \
    && groupadd --gid 10001 shop \
    && useradd --uid 10001 --gid shop --no-create-home --home-dir /nonexistent \
       --shell /usr/sbin/nologin shop
USER 10001:10001
WORKDIR /tmp
EXPOSE 8101 8102 8103 8104
ENTRYPOINT ["python", "-m"]
CMD ["services.catalog", "serve"]
