"""What real registries will not do on demand, from a fake one on a real TCP socket (127.0.0.1,
reached over plain HTTP as docker reaches loopback): hangs, garbage, 5xx, rate limits,
redirects, digests that do not match, huge bodies; and the auth flows (bearer tokens with and
without credentials, docker's config.json and credential helpers), with the secrets never
shown."""

import base64
import hashlib
import json
import time
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from tests.fake_daemon import CLOSE, HANG, Answer, FakeDaemon, Request, Response, json_response
from tests.helpers import STARTUP_ALLOWANCE, Run, run_cli, the_error_line

NO_DAEMON = "unix:///nonexistent/imginspect-test.sock"
CONFIG = json.dumps(
    {
        "architecture": "amd64",
        "os": "linux",
        "config": {"User": "1"},
        "rootfs": {"type": "layers", "diff_ids": []},
    }
).encode()
CONFIG_DIGEST = "sha256:" + hashlib.sha256(CONFIG).hexdigest()
MANIFEST = json.dumps(
    {
        "schemaVersion": 2,
        "mediaType": "application/vnd.docker.distribution.manifest.v2+json",
        "config": {
            "mediaType": "application/vnd.docker.container.image.v1+json",
            "size": len(CONFIG),
            "digest": CONFIG_DIGEST,
        },
        "layers": [],
    }
).encode()
MANIFEST_DIGEST = "sha256:" + hashlib.sha256(MANIFEST).hexdigest()
MANIFEST_TYPE = "application/vnd.docker.distribution.manifest.v2+json"
PASSWORD = "s3cret-Pa55"
TOKEN = "t0ken-abc.def"
IDENTITY_TOKEN = "refresh-XYZ"


def manifest_answer(
    body: bytes = MANIFEST, *, media_type: str = MANIFEST_TYPE, digest: str | None = None
) -> Response:
    headers = [("Content-Type", media_type)]
    if digest is not None:
        headers.append(("Docker-Content-Digest", digest))
    return Response(200, body, tuple(headers))


def registry_error(status: int, code: str, message: str) -> Response:
    return json_response({"errors": [{"code": code, "message": message}]}, status)


class FakeRegistry:
    """Routes by path (query aside); each route a Response, a behaviour or a callback."""

    def __init__(self, routes: dict[str, Answer | Callable[[Request], Answer]]) -> None:
        self.routes = {
            "/v2/": json_response({}),
            f"/v2/x/blobs/{CONFIG_DIGEST}": Response(200, CONFIG),
            **routes,
        }
        self.server = FakeDaemon(default=self._route, tcp=True)

    def _route(self, request: Request) -> Answer:
        path = request.path.partition("?")[0]
        if path.startswith("http://"):  # asked as a proxy: the absolute URL's path
            path = "/" + path.split("/", 3)[3]
        route = self.routes.get(path, json_response({"errors": []}, 404))
        return route(request) if callable(route) else route

    @property
    def address(self) -> str:
        return f"127.0.0.1:{self.server.tcp_port}"

    def ref(self, rest: str = "x:1") -> str:
        return f"docker://{self.address}/{rest}"

    def paths(self, prefix: str = "/v2/x/") -> list[str]:
        return [request.path for request in self.server.requests if request.path.startswith(prefix)]


@pytest.fixture
def fake() -> Iterator[Callable[..., FakeRegistry]]:
    made: list[FakeRegistry] = []

    def make(routes: dict[str, Answer | Callable[[Request], Answer]]) -> FakeRegistry:
        registry = FakeRegistry(routes)
        registry.server.start()
        made.append(registry)
        return registry

    yield make
    for registry in made:
        registry.server.stop()


def run(*args: str, env: dict[str, str] | None = None) -> Run:
    return run_cli(*args, host=NO_DAEMON, env=env)


# -- faults ----------------------------------------------------------------------------------

BIG = 5 * 1024 * 1024


@pytest.mark.parametrize(
    ("answer", "code", "says"),
    [
        (Response(200, b"<html>hello</html>", (("Content-Type", "text/html"),)), 3, "is not JSON"),
        (manifest_answer(b"[1, 2]"), 3, "not a JSON object"),
        (registry_error(500, "UNKNOWN", "storage broke"), 3, "answered 500: storage broke"),
        (Response(502, b"bad gateway"), 3, "answered 502"),
        (registry_error(404, "MANIFEST_UNKNOWN", "manifest unknown"), 1, "not found in registry"),
        (registry_error(401, "UNAUTHORIZED", "authentication required"), 3,
         "denied: authentication required"),
        (registry_error(403, "DENIED", "requested access is denied"), 3, "denied"),
        (Response(307, b"", (("Location", "http://elsewhere.invalid/m"),)), 3, "only blobs may be"),
        (manifest_answer(digest="sha256:" + "0" * 64), 3, "Docker-Content-Digest"),
        (manifest_answer(b"x" * BIG), 3, "more than the 4194304"),
        (Response(200, b"x" * BIG, (("Content-Type", MANIFEST_TYPE),), framing="chunked"), 3,
         "more than the 4194304 bytes"),
        (Response(200, MANIFEST, (("Content-Type", MANIFEST_TYPE),), cut_after=20), 3,
         "broken off"),
        (CLOSE, 3, "cannot connect"),
        (manifest_answer(json.dumps({"schemaVersion": 1, "name": "x", "fsLayers": []}).encode(),
                         media_type="application/vnd.docker.distribution.manifest.v1+prettyjws"),
         3, "Docker schema 1 manifest"),
        (manifest_answer(json.dumps({"schemaVersion": 1}).encode()), 3, "Docker schema 1"),
    ],
)  # fmt: skip
def test_a_bad_manifest_answer_is_one_line_and_its_status(
    fake: Callable[..., FakeRegistry], answer: Answer, code: int, says: str
) -> None:
    registry = fake({"/v2/x/manifests/1": answer})
    done = run("--json", registry.ref())
    assert done.code == code
    line = the_error_line(done)
    assert says in line
    assert registry.address in line


def test_a_manifest_by_digest_must_have_that_digest(fake: Callable[..., FakeRegistry]) -> None:
    wrong = "sha256:" + "1" * 64
    registry = fake({f"/v2/x/manifests/{wrong}": manifest_answer()})
    done = run("--json", registry.ref(f"x@{wrong}"))
    assert done.code == 3
    assert "does not have that digest" in the_error_line(done)


def test_a_config_must_have_its_digest(fake: Callable[..., FakeRegistry]) -> None:
    registry = fake(
        {
            "/v2/x/manifests/1": manifest_answer(),
            f"/v2/x/blobs/{CONFIG_DIGEST}": Response(200, CONFIG + b" "),
        }
    )
    done = run("--json", registry.ref())
    assert done.code == 3
    assert "does not have that digest" in the_error_line(done)


def test_a_blob_follows_its_redirect_to_storage(fake: Callable[..., FakeRegistry]) -> None:
    registry = fake(
        {
            "/v2/x/manifests/1": manifest_answer(),
            f"/v2/x/blobs/{CONFIG_DIGEST}": Response(307, b"", (("Location", "/storage/config"),)),
            "/storage/config": Response(200, CONFIG),
        }
    )
    done = run("-f", "{{.Config.User}}", registry.ref())
    assert (done.code, done.stdout, done.stderr) == (0, b"1\n", "")


def test_a_redirect_loop_ends_in_one_line(fake: Callable[..., FakeRegistry]) -> None:
    loop = Response(302, b"", (("Location", f"/v2/x/blobs/{CONFIG_DIGEST}"),))
    registry = fake({"/v2/x/manifests/1": manifest_answer(), f"/v2/x/blobs/{CONFIG_DIGEST}": loop})
    done = run("--json", registry.ref())
    assert done.code == 3
    assert "redirected more than 5 times" in the_error_line(done)


@pytest.mark.parametrize(
    "answer",
    [HANG, Response(200, MANIFEST, (("Content-Type", MANIFEST_TYPE),), pace=0.2)],
    ids=["hang", "dribble"],
)
def test_a_registry_that_does_not_answer_in_time_is_exit_3_within_the_timeout(
    fake: Callable[..., FakeRegistry], answer: Answer
) -> None:
    registry = fake({"/v2/x/manifests/1": answer})
    started = time.monotonic()
    done = run("--timeout", "1", "--json", registry.ref())
    assert time.monotonic() - started < 1 + STARTUP_ALLOWANCE + 1
    assert done.code == 3
    assert "1 seconds" in the_error_line(done)


def test_a_short_rate_limit_is_waited_out_once(fake: Callable[..., FakeRegistry]) -> None:
    answers = iter([Response(429, b"", (("Retry-After", "1"),)), manifest_answer()])
    registry = fake({"/v2/x/manifests/1": lambda request: next(answers)})
    done = run("--timeout", "5", "-f", "{{.Os}}", registry.ref())
    assert (done.code, done.stdout, done.stderr) == (0, b"linux\n", "")
    assert registry.paths("/v2/x/manifests/") == ["/v2/x/manifests/1"] * 2


def test_a_long_rate_limit_ends_the_run_and_what_was_printed_stays(
    fake: Callable[..., FakeRegistry],
) -> None:
    registry = fake(
        {
            "/v2/x/manifests/1": manifest_answer(),
            "/v2/x/manifests/2": Response(429, b"", (("Retry-After", "3600"),)),
            "/v2/x/manifests/3": manifest_answer(),
        }
    )
    done = run(
        "--timeout",
        "5",
        "-f",
        "{{.Os}}",
        registry.ref("x:1"),
        registry.ref("x:2"),
        registry.ref("x:3"),
    )
    assert done.code == 3
    assert done.stdout == b"linux\n"
    assert "rate limit" in the_error_line(done) and "3600" in the_error_line(done)


def test_many_images_ask_each_thing_once(fake: Callable[..., FakeRegistry]) -> None:
    registry = fake(
        {"/v2/x/manifests/1": manifest_answer(), "/v2/x/manifests/2": manifest_answer()}
    )
    refs = [registry.ref("x:1"), registry.ref("x:2")] * 10
    done = run("-f", "{{.Os}}", *refs)
    assert (done.code, done.stdout) == (0, b"linux\n" * 20)
    assert sorted(registry.paths()) == [
        f"/v2/x/blobs/{CONFIG_DIGEST}",
        "/v2/x/manifests/1",
        "/v2/x/manifests/2",
    ]
    assert registry.paths("/v2/").count("/v2/") == 1


# -- auth ------------------------------------------------------------------------------------


def bearer_registry(
    fake: Callable[..., FakeRegistry], *, token_route: Answer | Callable[[Request], Answer]
) -> FakeRegistry:
    registry: FakeRegistry

    def challenge(request: Request) -> Answer:
        realm = f"http://{registry.address}/token"
        return Response(
            401, b"{}", (("WWW-Authenticate", f'Bearer realm="{realm}",service="fake"'),)
        )

    def manifest(request: Request) -> Answer:
        if request.header("Authorization") != f"Bearer {TOKEN}":
            return registry_error(401, "UNAUTHORIZED", "authentication required")
        return manifest_answer()

    registry = fake(
        {
            "/v2/": challenge,
            "/v2/x/manifests/1": manifest,
            "/v2/x/manifests/2": manifest,
            "/token": token_route,
        }
    )
    return registry


def docker_config(tmp_path: Path, config: dict[str, object]) -> dict[str, str]:
    (tmp_path / "config.json").write_text(json.dumps(config))
    return {"DOCKER_CONFIG": str(tmp_path), "HOME": str(tmp_path)}


def test_an_anonymous_token_is_asked_once_per_scope(
    fake: Callable[..., FakeRegistry], tmp_path: Path
) -> None:
    registry = bearer_registry(fake, token_route=json_response({"token": TOKEN}))
    done = run(
        "-f",
        "{{.Os}}",
        *[registry.ref("x:1"), registry.ref("x:2")] * 5,
        env=docker_config(tmp_path, {}),
    )
    assert (done.code, done.stdout) == (0, b"linux\n" * 10), done.stderr
    [asked] = [r for r in registry.server.requests if r.path.startswith("/token")]
    assert "scope=repository%3Ax%3Apull" in asked.path and "service=fake" in asked.path
    assert asked.header("Authorization") is None


def test_credentials_from_config_json_reach_the_token_service_and_nothing_else(
    fake: Callable[..., FakeRegistry], tmp_path: Path
) -> None:
    def token(request: Request) -> Answer:
        expected = "Basic " + base64.b64encode(f"me:{PASSWORD}".encode()).decode()
        if request.header("Authorization") != expected:
            return json_response({"details": "bad credentials"}, 401)
        return json_response({"access_token": TOKEN})

    registry = bearer_registry(fake, token_route=token)
    auth = base64.b64encode(f"me:{PASSWORD}".encode()).decode()
    env = docker_config(tmp_path, {"auths": {registry.address: {"auth": auth}}})
    done = run("--debug", "--json", registry.ref(), env=env)
    assert done.code == 0, done.stderr
    for secret in (PASSWORD, auth, TOKEN):
        assert secret not in done.stderr and secret.encode() not in done.stdout
    assert "debug: GET http://" in done.stderr


def test_wrong_credentials_are_one_line_without_the_secret(
    fake: Callable[..., FakeRegistry], tmp_path: Path
) -> None:
    registry = bearer_registry(fake, token_route=json_response({"details": "bad credentials"}, 401))
    auth = base64.b64encode(f"me:{PASSWORD}".encode()).decode()
    env = docker_config(tmp_path, {"auths": {f"https://{registry.address}/v2/": {"auth": auth}}})
    done = run("--debug", "-q", registry.ref(), env=env)
    assert done.code == 3
    assert PASSWORD not in done.stderr and auth not in done.stderr
    assert "the token service refused the credentials" in done.stderr.splitlines()[-1]


def test_a_credential_helper_is_asked_with_the_server_url(
    fake: Callable[..., FakeRegistry], tmp_path: Path
) -> None:
    def token(request: Request) -> Answer:
        expected = "Basic " + base64.b64encode(f"helped:{PASSWORD}".encode()).decode()
        return json_response(
            {"token": TOKEN} if request.header("Authorization") == expected else {},
            200 if request.header("Authorization") == expected else 401,
        )

    registry = bearer_registry(fake, token_route=token)
    helper = tmp_path / "bin" / "docker-credential-fake"
    helper.parent.mkdir()
    asked = tmp_path / "asked"
    helper.write_text(
        "#!/bin/sh\n"
        f'[ "$1" = get ] || exit 2\ncat > {asked}\n'
        f'printf \'{{"ServerURL":"x","Username":"helped","Secret":"{PASSWORD}"}}\'\n'
    )
    helper.chmod(0o755)
    env = docker_config(tmp_path, {"credHelpers": {registry.address: "fake"}})
    env["PATH"] = f"{helper.parent}:/usr/bin:/bin"
    done = run("--debug", "-f", "{{.Os}}", registry.ref(), env=env)
    assert (done.code, done.stdout) == (0, b"linux\n"), done.stderr
    assert asked.read_text() == registry.address
    assert PASSWORD not in done.stderr


def test_an_identity_token_is_posted_as_a_refresh_token(
    fake: Callable[..., FakeRegistry], tmp_path: Path
) -> None:
    def token(request: Request) -> Answer:
        if request.method != "POST":
            return json_response({}, 405)
        return json_response({"access_token": TOKEN})

    registry = bearer_registry(fake, token_route=token)
    env = docker_config(tmp_path, {"auths": {registry.address: {"identitytoken": IDENTITY_TOKEN}}})
    done = run("--debug", "-q", registry.ref(), env=env)
    assert done.code == 0, done.stderr
    assert IDENTITY_TOKEN not in done.stderr
    assert [r.method for r in registry.server.requests if r.path.startswith("/token")] == ["POST"]


@pytest.mark.parametrize(
    ("token_route", "says"),
    [
        (Response(302, b"", (("Location", "/token"),)), "redirected more than 5 times"),
        (json_response({"nothing": 1}), "answered no token"),
        (Response(200, b"garbage"), "answered no JSON"),
        (HANG, "1 seconds"),
    ],
    ids=["loop", "no token", "garbage", "hang"],
)
def test_a_token_service_that_misbehaves_is_one_line(
    fake: Callable[..., FakeRegistry], tmp_path: Path, token_route: Answer, says: str
) -> None:
    registry = bearer_registry(fake, token_route=token_route)
    done = run("--timeout", "1", "-q", registry.ref(), env=docker_config(tmp_path, {}))
    assert done.code == 3
    assert says in the_error_line(done)


def test_basic_auth_sends_the_credentials(
    fake: Callable[..., FakeRegistry], tmp_path: Path
) -> None:
    expected = "Basic " + base64.b64encode(f"me:{PASSWORD}".encode()).decode()

    def guarded(answer: Answer) -> Callable[[Request], Answer]:
        return lambda request: (
            answer
            if request.header("Authorization") == expected
            else registry_error(401, "UNAUTHORIZED", "no")
        )

    registry = fake(
        {
            "/v2/": lambda request: Response(
                401, b"{}", (("WWW-Authenticate", 'Basic realm="fake"'),)
            ),
            "/v2/x/manifests/1": guarded(manifest_answer()),
            f"/v2/x/blobs/{CONFIG_DIGEST}": guarded(Response(200, CONFIG)),
        }
    )
    auth = base64.b64encode(f"me:{PASSWORD}".encode()).decode()
    done = run(
        "-q",
        registry.ref(),
        env=docker_config(tmp_path, {"auths": {registry.address: {"auth": auth}}}),
    )
    assert done.code == 0, done.stderr
    nobody = tmp_path / "nobody"
    nobody.mkdir()
    anonymous = run("-q", registry.ref(), env=docker_config(nobody, {}))
    assert anonymous.code == 3


def test_a_proxy_from_the_environment_is_used_and_no_proxy_is_honoured(
    fake: Callable[..., FakeRegistry],
) -> None:
    proxy = fake({"/v2/x/manifests/1": manifest_answer()})
    ref = "docker://registry.invalid:5000/x:1"
    env = {"HTTP_PROXY": f"http://{proxy.address}", "NO_PROXY": ""}
    done = run("--insecure-registry", "registry.invalid:5000", "-f", "{{.Os}}", ref, env=env)
    assert (done.code, done.stdout) == (0, b"linux\n"), done.stderr
    assert "http://registry.invalid:5000/v2/x/manifests/1" in proxy.paths("http://")
    direct = run(
        "--insecure-registry", "registry.invalid:5000", "-q", ref,
        env={**env, "NO_PROXY": "registry.invalid"},
    )  # fmt: skip
    assert direct.code == 3
    assert "cannot connect" in the_error_line(direct)


def test_a_401_to_a_manifest_after_an_unchallenged_v2_is_followed_once(
    fake: Callable[..., FakeRegistry], tmp_path: Path
) -> None:
    """Some registries let GET /v2/ through and challenge a repository's requests only."""
    registry: FakeRegistry

    def manifest(request: Request) -> Answer:
        if request.header("Authorization") == f"Bearer {TOKEN}":
            return manifest_answer()
        realm = f"http://{registry.address}/token"
        challenge = f'Bearer realm="{realm}",service="fake",scope="repository:x:pull"'
        return Response(401, b"{}", (("WWW-Authenticate", challenge),))

    registry = fake({"/v2/x/manifests/1": manifest, "/token": json_response({"token": TOKEN})})
    done = run("-f", "{{.Os}}", registry.ref("x:1"), env=docker_config(tmp_path, {}))
    assert (done.code, done.stdout) == (0, b"linux\n"), done.stderr
    assert registry.paths("/v2/x/manifests/") == ["/v2/x/manifests/1"] * 2
    assert len(registry.paths("/token")) == 1


def test_a_token_the_registry_refuses_is_asked_again_once(
    fake: Callable[..., FakeRegistry], tmp_path: Path
) -> None:
    """A token that expired early (a clock ahead of the service's): a new one, then the answer;
    a registry that refuses the new one too is denied, not asked forever."""
    tokens = iter(["stale", TOKEN])
    registry = bearer_registry(
        fake, token_route=lambda request: json_response({"token": next(tokens, "stale")})
    )
    done = run("-f", "{{.Os}}", registry.ref("x:1"), env=docker_config(tmp_path, {}))
    assert (done.code, done.stdout) == (0, b"linux\n"), done.stderr
    assert len(registry.paths("/token")) == 2
    refused = bearer_registry(fake, token_route=json_response({"token": "stale"}))
    done = run("-q", refused.ref("x:1"), env=docker_config(tmp_path, {}))
    assert done.code == 3
    assert len(refused.paths("/token")) == 2 and len(refused.paths("/v2/x/manifests/")) == 2
