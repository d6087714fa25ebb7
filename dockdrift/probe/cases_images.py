"""Probe cases for images, builds, commits and registries (only closed loopback ones)."""

from __future__ import annotations

from dockdrift.probe import setups as s
from dockdrift.probe.client import BAD_JSON, NULL
from dockdrift.probe.model import Case

IM = "/images/{name:.*}"
IMG = "${p}-img:probe"  # our tag of the probe image (setup `tag(ctx, "img")`)
ME = "${p}-missing:probe"
# The docker CLI always sends one; an empty JSON object ("{}") means no credentials.
NO_AUTH = {"X-Registry-Auth": "e30="}
CONTEXT = s.tar_of({"Dockerfile": b"FROM scratch\nCOPY ddprobe.txt /\n",
                    "ddprobe.txt": b"dockdrift probe\n"})
ROOTFS = s.tar_of({"ddprobe.txt": b"dockdrift probe\n"})
BUILD = "/build?rm=1&forcerm=1&t="


def _img(c):
    s.tag(c, "img")


def _in_use(c):
    image = s.committed(c)
    s.container(c, "imguser", Image=image)


def _loaded(c):
    return c.made.get("image_tar", b"")


INSPECT: tuple[Case, ...] = (
    Case("images-list", "GET", "/images/json", "200", "/images/json"),
    Case("images-list-bad-filter", "GET", "/images/json", "(400)", "/images/json?filters={bad"),
    Case("images-viz", "GET", "/images/viz", "n/a", "/images/viz",
         note="Swarm answered 501; the Engine has no such route"),
    Case("images-search-unreachable", "GET", "/images/search", "500",
         "/images/search?term=${closed}/ddprobe", note="a closed loopback registry"),
    Case("image-inspect", "GET", f"{IM}/json", "200", f"/images/{IMG}/json", setup=_img),
    Case("image-inspect-missing", "GET", f"{IM}/json", "404", f"/images/{ME}/json"),
    Case("image-history", "GET", f"{IM}/history", "200", f"/images/{IMG}/history", setup=_img),
    Case("image-history-missing", "GET", f"{IM}/history", "404", f"/images/{ME}/history"),
    Case("image-get", "GET", f"{IM}/get", "200", f"/images/{IMG}/get", setup=_img, timeout=60),
    Case("image-get-missing", "GET", f"{IM}/get", "404", f"/images/{ME}/get"),
    Case("images-get", "GET", "/images/get", "200", f"/images/get?names={IMG}", setup=_img,
         timeout=60),
    Case("images-get-missing", "GET", "/images/get", "404", f"/images/get?names={ME}"),
)

CHANGE: tuple[Case, ...] = (
    Case("image-tag", "POST", f"{IM}/tag", "201", "/images/${image}/tag?repo=${p}-tagged&tag=probe"),
    Case("tag-existing", "POST", f"{IM}/tag", "409",
         "/images/${image}/tag?repo=${p}-img&tag=probe", setup=_img,
         note="the document lists 409; newer engines move the tag"),
    Case("tag-bad-repo", "POST", f"{IM}/tag", "400", "/images/${image}/tag?repo=${p}-BAD&tag=x"),
    Case("tag-missing-image", "POST", f"{IM}/tag", "404",
         f"/images/{ME}/tag?repo=${{p}}-tagged2&tag=probe"),
    Case("image-remove", "DELETE", IM, "200", "/images/${p}-del:probe",
         setup=lambda c: s.tag(c, "del")),
    Case("image-remove-in-use", "DELETE", IM, "409", "/images/${p}-commit:probe",
         setup=_in_use, note="a stopped container uses our committed image"),
    Case("image-remove-missing", "DELETE", IM, "404", f"/images/{ME}"),
    Case("commit", "POST", "/commit", "201",
         "/commit?container=${p}-created&repo=${p}-committed&tag=probe", NULL,
         setup=lambda c: s.container(c, "created")),
    Case("commit-bad-repo", "POST", "/commit", "(400)",
         "/commit?container=${p}-created&repo=${p}-BAD&tag=probe", NULL,
         setup=lambda c: s.container(c, "created")),
    Case("commit-missing", "POST", "/commit", "404",
         "/commit?container=${p}-missing&repo=${p}-nocommit&tag=probe", NULL),
    Case("build", "POST", "/build", "200", BUILD + "${p}-build:probe", CONTEXT, timeout=120,
         note="FROM scratch: a build that can never pull"),
    Case("build-no-dockerfile", "POST", "/build", "500", BUILD + "${p}-nofile:probe", ROOTFS,
         timeout=60),
    Case("build-bad-dockerfile", "POST", "/build", "400", BUILD + "${p}-badfile:probe",
         s.tar_of({"Dockerfile": b"DDPROBE-NOSUCH-INSTRUCTION x\n"}), timeout=60),
    Case("images-import", "POST", "/images/create", "200",
         "/images/create?fromSrc=-&repo=${p}-import&tag=probe", ROOTFS, headers=NO_AUTH,
         timeout=60),
    Case("images-create-unreachable", "POST", "/images/create", "500",
         "/images/create?fromImage=${closed}/${p}-missing&tag=probe", headers=NO_AUTH,
         note="a pull from a closed loopback registry", timeout=60),
    Case("images-load", "POST", "/images/load", "200", "/images/load?quiet=1", _loaded,
         setup=s.image_tar, timeout=60, note="the tar of image-get"),
    Case("images-load-garbage", "POST", "/images/load", "500", "/images/load?quiet=1",
         b"ddprobe: not a tar archive\n" * 40),
    Case("push-unreachable", "POST", f"{IM}/push", "500",
         "/images/${closed}/${p}-push/push?tag=probe", headers=NO_AUTH,
         setup=lambda c: s.tag(c, f"{c.closed}/{c.prefix}-push"), timeout=60,
         note="a push to a closed loopback registry"),
    Case("push-missing-image", "POST", f"{IM}/push", "404",
         "/images/${closed}/${p}-missing/push?tag=probe", headers=NO_AUTH, timeout=60),
    Case("auth-unreachable", "POST", "/auth", "500", "/auth",
         {"username": "ddprobe", "password": "ddprobe", "serveraddress": "http://${closed}"},
         timeout=60, note="a bogus registry on a closed loopback port"),
    Case("auth-bad-json", "POST", "/auth", "(400)", "/auth", BAD_JSON),
)

CASES = INSPECT + CHANGE
