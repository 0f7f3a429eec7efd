#!/usr/bin/env bash
# Build the mock's OCI image from ./Containerfile and check it over the wire, on a machine where no registry is
# reachable and no container can be started (a CI sandbox), as root:
#   1. installs podman and mmdebstrap with apt-get when missing;
#   2. a local base image: Debian bookworm (python3, python3-venv) made by mmdebstrap, cached for a week;
#   3. the wheels: this working tree's (built from a clean copy) and every dependency's (`pip wheel`, cached until
#      pyproject.toml changes), for the base's Python; the image installs them with --no-index;
#   4. `podman build --isolation=chroot --build-arg BASE=localhost/... --build-arg WHEELS=.image-wheels`;
#   5. runs the image's ENTRYPOINT + CMD, as the image's user, with the image's environment, from the writable root
#      of a created (never started) container: chroot in a private mount namespace with a podman volume on /data,
#      on a free loopback port (IPYY_MOCK_HOST/IPYY_MOCK_PORT override the image's 0.0.0.0:8080);
#   6. drives it with curl: WSDL, a SOAP send, an HTTP send, a seeded account, the Compose example's environment
#      and app, /_mock/health, the image's HEALTHCHECK command, the admin API with the token, the data on the
#      volume still there when a second container replaces the first, a locked database (unhealthy), and a
#      read-only database or volume (one line, exit 1).
# Everything it starts is stopped and removed on exit (also on Ctrl-C or the time limit); the image is kept as
# localhost/ipyy-mock:check (the build cache). Usage: bash scripts/image.sh
# Environment: IMAGE_TIMEOUT (seconds, default 900), IMAGE_CACHE (default ~/.cache/ipyy-sms/image),
# PYTHON (a Python of the base's version for `pip wheel`, default python3 or python3.11), DEBIAN_MIRROR.
set -euo pipefail
cd "$(dirname "$0")/.."
ROOT=$PWD

if [ -z "${_IPYY_IMAGE_BOUNDED:-}" ]; then  # the whole run is bounded; timeout signals every process of this group
  export _IPYY_IMAGE_BOUNDED=1
  exec timeout --kill-after=30 "${IMAGE_TIMEOUT:-900}" bash "$0" "$@"
fi

SUITE=bookworm
BASE_PYTHON=3.11                       # bookworm's python3
PACKAGES=python3,python3-venv
MIRROR=${DEBIAN_MIRROR:-http://deb.debian.org/debian}
IMAGE=localhost/ipyy-mock:check
BUILD_STAGE=localhost/ipyy-mock-build:check
LABEL=ipyy-mock.check                  # on everything this script creates (inherited from its base image)
CACHE=${IMAGE_CACHE:-${XDG_CACHE_HOME:-$HOME/.cache}/ipyy-sms/image}
STARTED=$SECONDS

say() { printf '== %s (%ss)\n' "$*" "$((SECONDS - STARTED))"; }
die() { printf 'scripts/image.sh: %s\n' "$*" >&2; exit 1; }

[ "$(id -u)" = 0 ] || die "run it as root: podman mount and chroot stand in for a container runtime here (to build \
the image as a user: podman build -t ipyy-mock . ; see docs/container.md)"
need=()
command -v podman >/dev/null || need+=(podman)
command -v mmdebstrap >/dev/null || need+=(mmdebstrap)
command -v curl >/dev/null || need+=(curl)
command -v unshare >/dev/null || need+=(util-linux)
if [ ${#need[@]} -gt 0 ]; then
  command -v apt-get >/dev/null || die "${need[*]} missing and no apt-get to install them"
  say "installing Debian packages: ${need[*]}"
  apt-get update -qq >/dev/null
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "${need[@]}" >/dev/null
fi

pyver() { "$1" -c 'import sys; print("%d.%d" % sys.version_info[:2])' 2>/dev/null || true; }
PYTHON=${PYTHON:-python3}
if [ "$(pyver "$PYTHON")" != "$BASE_PYTHON" ]; then
  [ "$(pyver "python$BASE_PYTHON")" = "$BASE_PYTHON" ] && "python$BASE_PYTHON" -m pip --version >/dev/null 2>&1 \
    || die "the wheels are built for the base's Python $BASE_PYTHON: set PYTHON to a python$BASE_PYTHON with pip"
  PYTHON=python$BASE_PYTHON
fi
VERSION=$("$PYTHON" -c 'import tomllib; print(tomllib.load(open("pyproject.toml", "rb"))["project"]["version"])')

mkdir -p "$CACHE"
exec 9>"$CACHE/lock"
flock -w 600 9 || die "another scripts/image.sh holds $CACHE/lock"

# -- clean-up: whatever this run started, and what a killed run left behind (the lock says no other run is on) --
TMP=$(mktemp -d)
SERVER_PID=
CONTAINERS=()
VOLUME=ipyy-mock-check-$$
stop_server() {
  [ -n "$SERVER_PID" ] || return 0
  kill -TERM -- "-$SERVER_PID" 2>/dev/null || true
  for _ in $(seq 1 150); do kill -0 -- "-$SERVER_PID" 2>/dev/null || break; sleep 0.1; done
  kill -KILL -- "-$SERVER_PID" 2>/dev/null || true
  wait "$SERVER_PID" 2>/dev/null || true
  SERVER_PID=
}
cleanup() {
  stop_server
  for c in "${CONTAINERS[@]}"; do podman rm -f "$c" >/dev/null 2>&1 || true; done
  podman volume rm -f "$VOLUME" >/dev/null 2>&1 || true
  rm -rf "$TMP" "$ROOT/.image-wheels"
}
trap cleanup EXIT
trap 'exit 130' INT
trap 'exit 143' TERM
podman ps -a -q --filter "label=$LABEL" | xargs -r podman rm -f >/dev/null 2>&1 || true
podman volume ls -q --filter "label=$LABEL" | xargs -r podman volume rm -f >/dev/null 2>&1 || true

# -- 2. the local base image ----------------------------------------------------------------------------------
KEY=$(printf '%s\n' "$SUITE" "$MIRROR" "$PACKAGES" "$(date -u +%G-W%V)" | sha256sum | cut -c1-12)
BASE=localhost/ipyy-mock-base:$SUITE-$KEY
if podman image exists "$BASE"; then
  say "base image $BASE (cached)"
else
  tarball=$CACHE/base-$SUITE-$KEY.tar
  if [ ! -s "$tarball" ]; then
    say "making $SUITE with $PACKAGES (mmdebstrap, about a minute)"
    rm -f "$CACHE"/base-*.tar
    mmdebstrap --quiet --variant=minbase --include="$PACKAGES" \
      --dpkgopt='path-exclude=/usr/share/doc/*' --dpkgopt='path-exclude=/usr/share/man/*' \
      --dpkgopt='path-exclude=/usr/share/locale/*' --dpkgopt='path-exclude=/usr/share/info/*' \
      "$SUITE" "$TMP/base.tar" "$MIRROR" >"$TMP/mmdebstrap.log" 2>&1 || { cat "$TMP/mmdebstrap.log" >&2; exit 1; }
    mv "$TMP/base.tar" "$tarball"
  fi
  say "importing $BASE"
  podman import --quiet --change "LABEL $LABEL=1" "$tarball" "$BASE" >/dev/null
  podman images --format '{{.Repository}}:{{.Tag}}' localhost/ipyy-mock-base | grep -vxF "$BASE" \
    | xargs -r podman rmi >/dev/null 2>&1 || true
fi

# -- 3. wheels ------------------------------------------------------------------------------------------------
pip_wheel() {  # quiet unless it fails
  if ! "$PYTHON" -m pip wheel --quiet --disable-pip-version-check "$@" >"$TMP/pip.log" 2>&1; then
    cat "$TMP/pip.log" >&2
    return 1
  fi
}
SRC=$TMP/src  # a clean copy of the working tree: an in-tree build/ directory could put stale files in the wheel
mkdir -p "$SRC"
if git rev-parse --is-inside-work-tree >/dev/null 2>&1; then
  git ls-files -z --cached --others --exclude-standard | tar --null -T - --ignore-failed-read -cf - 2>/dev/null \
    | tar -xf - -C "$SRC"
else
  tar --exclude=./.git --exclude='./.venv*' --exclude=./build --exclude=./.image-wheels -cf - . | tar -xf - -C "$SRC"
fi
DEPS=$CACHE/wheels-py$BASE_PYTHON-$(sha256sum pyproject.toml | cut -c1-12)
if [ ! -d "$DEPS" ]; then
  say "dependency wheels for Python $BASE_PYTHON (pip wheel, cached until pyproject.toml changes)"
  rm -rf "$CACHE"/wheels-*
  pip_wheel -w "$TMP/deps" "$SRC"
  rm -f "$TMP"/deps/ipyy_sms-*.whl
  mv "$TMP/deps" "$DEPS"
fi
rm -rf "$ROOT/.image-wheels"
mkdir -p "$ROOT/.image-wheels"
cp "$DEPS"/*.whl "$ROOT/.image-wheels/"
SOURCE_DATE_EPOCH=315532800 pip_wheel --no-deps -w "$ROOT/.image-wheels" "$SRC"  # same tree, same wheel: cached layer
say "wheels: ipyy-sms $VERSION and $(($(ls "$ROOT/.image-wheels" | wc -l) - 1)) dependencies"

# -- 4. the image ---------------------------------------------------------------------------------------------
build() {
  podman build --isolation=chroot --format docker --layers --build-arg "BASE=$BASE" \
    --build-arg WHEELS=.image-wheels --build-arg "VERSION=$VERSION" -f Containerfile "$@" . >"$TMP/build.log" 2>&1 \
    || { tail -40 "$TMP/build.log" >&2; die "podman build failed (whole log above, last 40 lines)"; }
}
say "podman build (--format docker keeps the HEALTHCHECK)"
build --target build -t "$BUILD_STAGE"  # tagged, so the prune below keeps its cached layers for the next run
build -t "$IMAGE"
rm -rf "$ROOT/.image-wheels"
podman image prune -f --filter "label=$LABEL" >/dev/null 2>&1 || true  # earlier runs' layers
podman image inspect "$IMAGE" >"$TMP/inspect.json"
"$PYTHON" - "$TMP/inspect.json" "$VERSION" "$BASE" <<'EOF' || die "the image's configuration is not what the Containerfile says"
import json, sys
image = json.load(open(sys.argv[1]))[0]
config, version, base = image["Config"], sys.argv[2], sys.argv[3]
labels = config.get("Labels") or {}
checks = {
    "non-root user": config.get("User", "") not in ("", "0", "root") and not config["User"].startswith(("0:", "root")),
    "EXPOSE 8080": "8080/tcp" in (config.get("ExposedPorts") or {}),
    "VOLUME /data": "/data" in (config.get("Volumes") or {}),
    "database on the volume": "IPYY_MOCK_DB=/data/ipyy-mock.db" in config.get("Env", []),
    "ENTRYPOINT + CMD": (config.get("Entrypoint") or []) + (config.get("Cmd") or []) == ["ipyy-mock", "serve"],
    "HEALTHCHECK": (image.get("Healthcheck") or config.get("Healthcheck") or {}).get("Test") == ["CMD", "python3", "-m", "ipyy_mock.server.health"],
    "version label": labels.get("org.opencontainers.image.version") == version,
    "base label": labels.get("org.opencontainers.image.base.name") == base,
    "OCI labels": all(labels.get(f"org.opencontainers.image.{k}") for k in ("title", "description", "licenses")),
}
for name, ok in checks.items():
    print(f"   {'ok  ' if ok else 'FAIL'} {name}")
sys.exit(0 if all(checks.values()) else 1)
EOF
say "image $IMAGE, $(podman image inspect "$IMAGE" --format '{{.Size}}' | awk '{printf "%d MB", $1/1e6}')"

# -- 5. run it: the image's command, user and environment, in a created container's root ----------------------
mapfile -t -d '' COMMAND < <("$PYTHON" -c '
import json, sys
c = json.load(open(sys.argv[1]))[0]["Config"]
sys.stdout.write("".join(a + "\0" for a in (c.get("Entrypoint") or []) + (c.get("Cmd") or [])))' "$TMP/inspect.json")
mapfile -t -d '' IMAGE_ENV < <("$PYTHON" -c '
import json, sys
sys.stdout.write("".join(a + "\0" for a in json.load(open(sys.argv[1]))[0]["Config"].get("Env") or []))' \
  "$TMP/inspect.json")
USERSPEC=$(podman image inspect "$IMAGE" --format '{{.Config.User}}')
WORKDIR=$(podman image inspect "$IMAGE" --format '{{.Config.WorkingDir}}')
PORT=$("$PYTHON" -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
B=http://127.0.0.1:$PORT
compose() {  # compose SERVICE argv|env: from docs/examples/compose.yaml, NUL-separated (IPYY_BASE_URL made $B)
  "$PYTHON" - "$ROOT/docs/examples/compose.yaml" "$1" "$2" "$B" <<'EOF'
import sys, yaml
service = yaml.safe_load(open(sys.argv[1]))["services"][sys.argv[2]]
if sys.argv[3] == "argv":
    items = list(service.get("entrypoint") or []) + list(service.get("command") or [])
else:
    env = {k: str(v) for k, v in (service.get("environment") or {}).items()}
    items = [f"{k}={sys.argv[4] if k == 'IPYY_BASE_URL' else v}" for k, v in env.items()]
sys.stdout.write("".join(i + "\0" for i in items))
EOF
}
MOCK_ENV=(IPYY_MOCK_SEED_ACCOUNT=shop:s3cret:50.00)
if "$PYTHON" -c 'import yaml' 2>/dev/null; then  # the Compose example's mock environment, and later its app
  mapfile -t -d '' MOCK_ENV < <(compose ipyy-mock env)
  COMPOSE=yes
else
  COMPOSE=
fi
RUN_ENV=("${IMAGE_ENV[@]}" "${MOCK_ENV[@]}" IPYY_MOCK_HOST=127.0.0.1 "IPYY_MOCK_PORT=$PORT" IPYY_MOCK_WORKERS=2)
ADMIN=()  # with an admin token every caller of the admin API sends it, loopback too
for kv in "${MOCK_ENV[@]}"; do
  case "$kv" in IPYY_MOCK_ADMIN_TOKEN=?*) ADMIN=(-H "X-Admin-Token: ${kv#*=}") ;; esac
done
podman volume create --label "$LABEL=1" "$VOLUME" >/dev/null
VOLDIR=$(podman volume inspect "$VOLUME" --format '{{.Mountpoint}}')
ROOTFS=
new_container() {
  local name=ipyy-mock-check-$$-$1
  podman create --quiet --name "$name" --label "$LABEL=1" --health-interval=disable -v "$VOLUME:/data" "$IMAGE" \
    >/dev/null
  CONTAINERS+=("$name")
  ROOTFS=$(podman mount "$name")
  chown --reference="$ROOTFS/data" "$VOLDIR"  # as podman does for a new volume: the image's /data owner
  chmod --reference="$ROOTFS/data" "$VOLDIR"
}
image_argv() {  # ARGV: "$@" as the image's user, with its environment, in its working directory, /data the volume,
  # and what a container runtime gives every container: a tmpfs /dev/shm (the server's worker semaphores) and /proc
  ARGV=(unshare --mount --propagation private  # the bind mount of the volume ends with the last process using it
        sh -c 'mount --bind "$1" "$2/data" && mkdir -p "$2/dev/shm" "$2/proc" \
               && mount -t tmpfs -o mode=1777,nosuid,nodev tmpfs "$2/dev/shm" \
               && { mount -t proc proc "$2/proc" 2>/dev/null || true; } && shift 2 && exec chroot "$@"' \
        sh "$VOLDIR" "$ROOTFS"
        --userspec="$USERSPEC" "$ROOTFS" /usr/bin/env -i "${RUN_ENV[@]}"
        /bin/sh -c 'cd "$1" && shift && exec "$@"' sh "$WORKDIR" "$@")
}
in_image() { image_argv "$@"; "${ARGV[@]}" 9>&-; }
start_server() {
  image_argv "${COMMAND[@]}"
  setsid "${ARGV[@]}" >"$TMP/server-$1.log" 2>&1 9>&- &  # its own process group: stopped as a whole
  SERVER_PID=$!
  local fail=-f; [ "${2:-}" = any ] && fail=  # `any`: a 503 is an answer too
  for _ in $(seq 1 300); do
    # up means: health answers, and this server printed its banner (printed once it is ready; an answer without
    # it would come from another server still holding the port)
    curl $fail -sS --noproxy '*' --max-time 2 -o /dev/null "$B/_mock/health" 2>/dev/null \
      && grep -q '^  SOAP ' "$TMP/server-$1.log" && return 0
    kill -0 "$SERVER_PID" 2>/dev/null || { cat "$TMP/server-$1.log" >&2; die "the image's command exited"; }
    sleep 0.2
  done
  cat "$TMP/server-$1.log" >&2
  die "no answer on $B/_mock/health within 60 s"
}
fetch() { curl -sS --noproxy '*' --max-time 15 "$@"; }
expect() {  # expect WHAT TEXT REPLY
  case "$3" in
    *"$2"*) printf '   ok   %s\n' "$1" ;;
    *) printf '   FAIL %s: wanted %s in:\n%s\n' "$1" "$2" "$3" >&2; exit 1 ;;
  esac
}
soap_send() {  # what a .NET client of the vendor's WSDL sends (docs/contract.md §2)
  fetch -H 'Content-Type: text/xml; charset=utf-8' -H 'SOAPAction: "http://www.yysms.com/SendI18NSms"' \
    --data-binary '<?xml version="1.0" encoding="utf-8"?><soap:Envelope xmlns:xsi="http://www.w3.org/2001/XMLSchema-instance" xmlns:xsd="http://www.w3.org/2001/XMLSchema" xmlns:soap="http://schemas.xmlsoap.org/soap/envelope/"><soap:Body><SendI18NSms xmlns="http://www.yysms.com/"><userName>demo</userName><password>demo123</password><sms><Msisdns>8613800138000</Msisdns><SMSContent>你好【华信】</SMSContent><ExtNumber /><PlanSendTime xsi:nil="true" /></sms></SendI18NSms></soap:Body></soap:Envelope>' \
    "$B/WebService.asmx"
}
HEALTHY="{\"ok\": true, \"version\": \"$VERSION\", \"database_writable\": true"  # then what retention keeps

new_container 1
say "starting the image's command: ${COMMAND[*]} as $USERSPEC on $B"
start_server 1
expect "banner: database on the volume" "database /data/ipyy-mock.db" "$(cat "$TMP/server-1.log")"
expect "banner: seeded account" "account   shop  balance 50.00  (created)" "$(cat "$TMP/server-1.log")"
expect "server runs as the image's user" "uids: ${USERSPEC%%:*};" \
  "uids: $(ps -o uid= --sid "$SERVER_PID" | sort -u | tr -d ' ' | paste -sd,);"
expect "WSDL" "<wsdl:definitions" "$(fetch "$B/WebService.asmx?WSDL")"
expect "SOAP send" "<StatusCode>OK</StatusCode>" "$(soap_send)"
expect "HTTP send" "<balance>99.90</balance>" "$(fetch "$B/I18NSms.aspx" -d action=send -d account=demo \
  -d password=demo123 -d mobile=8613800138000 -d code=8 -d content=6D4B8BD53010534E4FE13011)"
expect "seeded account's balance" "<balance>50.00</balance>" \
  "$(fetch "$B/I18NSms.aspx?action=overage&account=shop&password=s3cret")"
SHOP=50.00
if [ -n "$COMPOSE" ]; then
  mapfile -t -d '' APP < <(compose app argv)
  mapfile -t -d '' APP_ENV < <(compose app env)
  SERVER_ENV=("${RUN_ENV[@]}")
  RUN_ENV=("${IMAGE_ENV[@]}" "${APP_ENV[@]}")
  expect "the Compose example's app: ${APP[*]}" "charged 0.05, balance 49.95" "$(in_image "${APP[@]}" 2>&1)"
  RUN_ENV=("${SERVER_ENV[@]}")
  SHOP=49.95
else
  echo "   skip the Compose example's app: no PyYAML for $PYTHON"
fi
expect "health" "$HEALTHY" "$(fetch "$B/_mock/health")"
expect "health for any Host" "$HEALTHY" "$(fetch -H 'Host: ipyy-mock:8080' "$B/_mock/health")"
expect "the image's HEALTHCHECK command" "exit 0" "$(in_image python3 -m ipyy_mock.server.health 2>&1; echo "exit $?")"
expect "journal" '"path": "/I18NSms.aspx"' "$(fetch "${ADMIN[@]}" "$B/_mock/api/journal?limit=5")"
if [ ${#ADMIN[@]} -gt 0 ]; then
  expect "admin API without the token: 401" "401" "$(fetch -o /dev/null -w '%{http_code}' "$B/_mock/api/clock")"
  expect "admin API as http://ipyy-mock:8080 (the Compose example's allowed host)" "200" \
    "$(fetch "${ADMIN[@]}" -H 'Host: ipyy-mock:8080' -o /dev/null -w '%{http_code}' "$B/_mock/api/clock")"
  expect "admin API for another Host: 403" "403" \
    "$(fetch "${ADMIN[@]}" -H 'Host: elsewhere.example' -o /dev/null -w '%{http_code}' "$B/_mock/api/clock")"
fi
stop_server
podman rm -f "${CONTAINERS[@]}" >/dev/null 2>&1
CONTAINERS=()

new_container 2
say "a second container on the same volume"
start_server 2
expect "banner: the volume's database kept" "(password as set)  userid 1  balance 99.90  (kept)" \
  "$(cat "$TMP/server-2.log")"
expect "banner: seeded account kept" "account   shop  balance $SHOP  (kept)" "$(cat "$TMP/server-2.log")"
expect "balance after the restart" "<balance>99.90</balance>" \
  "$(fetch "$B/I18NSms.aspx?action=overage&account=demo&password=demo123")"
expect "the sends are still there" '"id": 1000001' "$(fetch "${ADMIN[@]}" "$B/_mock/api/tasks?account=demo")"

say "the database locked by another writer for longer than the health check waits"
"$PYTHON" -c 'import sqlite3, sys, time
db = sqlite3.connect(sys.argv[1], isolation_level=None); db.execute("BEGIN IMMEDIATE"); time.sleep(8)' \
  "$VOLDIR/ipyy-mock.db" 9>&- &
LOCKER=$!
sleep 0.5
UNHEALTHY="$(fetch -w ' %{http_code}' "$B/_mock/health")"
expect "unhealthy: not writable" '"database_writable": false, "reason"' "$UNHEALTHY"
expect "unhealthy: 503" '}
 503' "$UNHEALTHY"
expect "the HEALTHCHECK command fails" "exit 1" "$(in_image python3 -m ipyy_mock.server.health 2>&1; echo "exit $?")"
wait "$LOCKER"
expect "healthy again" "$HEALTHY" "$(fetch "$B/_mock/health")"
stop_server

say "the database read-only for the image's user"
chmod a-w "$VOLDIR/ipyy-mock.db"
image_argv "${COMMAND[@]}"
OUT=$(timeout 60 "${ARGV[@]}" 9>&- 2>&1; echo "exit $?")
expect "one line saying what to do" "ipyy-mock: cannot write the database /data/ipyy-mock.db: it is read-only \
(attempt to write a readonly database); a read-only or immutable file or mount, make it writable or use another \
--db" "$OUT"
expect "exit 1, nothing else printed" "1 lines, exit 1" "$(($(wc -l <<<"$OUT") - 1)) lines, ${OUT##*$'\n'}"
chmod u+w "$VOLDIR/ipyy-mock.db"

say "a volume the image's user cannot write"
VOLDIR=$TMP/root-owned
mkdir -m 0755 "$VOLDIR"
image_argv "${COMMAND[@]}"
OUT=$(timeout 60 "${ARGV[@]}" 9>&- 2>&1; echo "exit $?")
expect "one line saying what to do" "ipyy-mock: cannot open the database /data/ipyy-mock.db: unable to open \
database file; it needs a directory user ${USERSPEC%%:*} can write (a volume: check its owner), or choose another \
file with --db (\$IPYY_MOCK_DB)" "$OUT"
expect "exit 1, nothing else printed" "1 lines, exit 1" "$(($(wc -l <<<"$OUT") - 1)) lines, ${OUT##*$'\n'}"
say "image checks passed: $IMAGE"
