"""The registry fixtures (lib/registry.py, lib/token_server.py) work: an
image pushed with skopeo can be inspected through each auth mode, and wrong
credentials are refused."""

import json
import os

import pytest

from lib import oci_image
from lib.registry import push_oci_archive, registry, skopeo

pytestmark = pytest.mark.skipif(os.geteuid() != 0, reason="requires root (skopeo in a mount namespace)")


@pytest.fixture
def archive(tmp):
    rootfs = os.path.join(tmp, "rootfs")
    os.makedirs(os.path.join(rootfs, "etc"))
    with open(os.path.join(rootfs, "etc", "hello"), "w") as f:
        f.write("hello from the fixture test\n")
    out = os.path.join(tmp, "image.tar")
    oci_image.build(rootfs, out, "localhost/fixture:1")
    return out


def inspect(reg, tmp, ref, creds=None):
    args = ["inspect", "--raw", "--tls-verify=false"]
    if creds:
        args += ["--creds", creds]
    return skopeo(args + [f"docker://{reg.host}/{ref}"], tmp, check=False)


@pytest.mark.parametrize("auth", [None, "basic", "token"])
def test_push_then_inspect(tmp, archive, auth):
    users = {"alice": "wonder-land"} if auth else None
    with registry(tmp, auth=auth, users=users) as reg:
        push_oci_archive(reg, archive, "team/fixture:1")
        result = inspect(reg, tmp, "team/fixture:1", reg.creds())
        assert result.returncode == 0, result.stderr
        manifest = json.loads(result.stdout)
        assert manifest["mediaType"] == "application/vnd.oci.image.manifest.v1+json"
        assert len(manifest["layers"]) == 1
        if auth == "token":
            # the client asked for a push token with the user's name
            assert any(user == "alice" and any(s.endswith(":pull,push") for s in scopes)
                       for user, scopes in reg.token_server.requests)


@pytest.mark.parametrize("auth", ["basic", "token"])
def test_wrong_password_refused(tmp, archive, auth):
    with registry(tmp, auth=auth, users={"alice": "wonder-land"}) as reg:
        push_oci_archive(reg, archive, "team/fixture:1")
        result = inspect(reg, tmp, "team/fixture:1", "alice:not-the-password")
        assert result.returncode != 0
        assert "unauthorized" in result.stderr.lower() or "401" in result.stderr
        anonymous = inspect(reg, tmp, "team/fixture:1")
        assert anonymous.returncode != 0
        with pytest.raises(RuntimeError, match="skopeo copy"):
            push_oci_archive(reg, archive, "team/fixture:2", creds="alice:not-the-password")


def test_token_grants_limit_push(tmp, archive):
    with registry(tmp, auth="token", users={"writer": "w", "reader": "r"},
                  grants={"reader": ("pull",)}) as reg:
        push_oci_archive(reg, archive, "team/fixture:1", creds="writer:w")
        assert inspect(reg, tmp, "team/fixture:1", "reader:r").returncode == 0
        with pytest.raises(RuntimeError, match="denied|unauthorized"):
            push_oci_archive(reg, archive, "team/fixture:2", creds="reader:r")
