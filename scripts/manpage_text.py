"""The man page's prose: what the click command, the environment table and the template
engine cannot say themselves. scripts/manpage.py renders it as roff, beside what it reads
from the command; each option's extra paragraph is checked against the command's options.

Prose uses `code` for literal text (bold) and *WORD* for a placeholder (italic); the
command's option names are bold wherever they appear.
"""

from collections.abc import Mapping, Sequence

# -- what only prose can say --------------------------------------------------------------------

OPTION_DETAILS: Mapping[str, Sequence[str]] = {
    "--all": (
        "One `GET /images/json` (what `docker image ls` lists), then each image by its ID: "
        "`imginspect --all --json` prints what `docker image inspect $(docker image ls -q)` "
        "prints, each image once. Every output form works with it; the view heads each image "
        "with its first tag, or its ID. Not with *IMAGE* arguments (exit 2). On a terminal, a "
        "run that takes more than half a second shows its progress on standard error "
        "(`imginspect: 120/300 images`), erased before anything else is printed.",
    ),
    "--filter": (
        "Sent as docker sends `docker image ls --filter`: `label=KEY` or `label=KEY=VALUE`, "
        "`dangling=true|false`, `reference=PATTERN`, `before=IMAGE`, `since=IMAGE`, "
        "`until=TIMESTAMP`. A filter the daemon refuses is a usage error with its message; "
        "`--filter` without `--all` is a usage error too.",
    ),
    "--json": (
        "The objects are those of `GET /images/{name}/json`, in one array indented as "
        "`docker image inspect` indents it: byte for byte the same output (see OUTPUT).",
    ),
    "--format": (
        "The template is parsed before the daemon is asked, so a syntax error exits 2 and "
        "nothing is sent. `-f json` prints the images as one compact JSON array. "
        "See FORMAT.",
    ),
    "--quiet": (
        "Usage errors and daemon problems are still reported on standard error. With "
        "`--diff`, only the exit status says whether the images differ.",
    ),
    "--contents": (
        "Every layer of each image is read through (from the daemon's `docker save` stream, "
        "an archive, or a registry's blobs) and merged as a container's root filesystem "
        "merges them. With `--json`, one JSON array (see OUTPUT). Not with `--format`, "
        "`--files`, `--quiet`, `--diff` or `--manifests` (exit 2).",
    ),
    "--files": (
        "The value is only ever attached, as getopt's optional arguments are: "
        "`--files=usr/share`; a bare `--files` takes no value, so `imginspect --files app:1.0` "
        "lists the whole of app:1.0. *PREFIX* may start with `/` or `./`; `..` is a usage "
        "error. With several images, each listing is headed `==> IMAGE <==` and parted from "
        "the one before by a blank line, as `head` does. Not with `--json`, `--format`, "
        "`--contents`, `--quiet`, `--diff` or `--manifests` (exit 2).",
    ),
    "--ci": (
        "The rules are dive's (its CI mode): `lowestEfficiency` (0.9 unless set), "
        "`highestWastedBytes` (disabled unless set) and `highestUserWastedPercent` (0.1 "
        "unless set), judged on dive's numbers. Alone, it prints dive's report of each "
        "image: the analysis, the inefficient files and each rule's `PASS`, `FAIL` or `SKIP`. "
        "With another output (the view, `--json`, `--format`, `--contents`, `--files`) that "
        "output is printed instead. Either way each broken rule is one line on standard "
        "error, `Error: IMAGE: RULE: MESSAGE` in dive's words, and the run exits 5. With "
        "`--quiet`, only the exit status tells.",
    ),
    "--ci-config": (
        "The YAML dive reads: a top-level `rules:` mapping of `lowestEfficiency`, "
        "`highestWastedBytes` and `highestUserWastedPercent` (comments and quotes allowed, "
        "other keys ignored). A file that cannot be read or parsed, or a value dive would "
        "refuse, is a usage error (exit 2) that names the file and the line. Without this "
        "option `.dive-ci` in the current directory is read if it exists; a file named here "
        "must exist.",
    ),
    "--highest-wasted-bytes": (
        "*SIZE* is read as dive reads it (go-humanize): `20MB` and `20Mb` are 20*1000^2 "
        "bytes, `20MiB` 20*1024^2; `disabled`, `off`, `false` or nothing turn the rule off. "
        "The rule options override the file's values.",
    ),
    "--color": (
        "`auto` colours the view on a terminal, unless `NO_COLOR` is set and non-empty or "
        "`TERM` is `dumb`; a non-empty `FORCE_COLOR` colours it anywhere. `always` and "
        "`never` beat all of them. Only the view has colours; `less -R` shows them.",
    ),
    "--host": (
        "*URL* is `unix:///path/to/socket`, `tcp://host[:port]`, `host[:port]` (tcp) or "
        "`ssh://[user@]host[:port][/path/of/the/remote/socket]`. A tcp address without a port "
        "uses 2375, even with TLS, as in docker; with TLS on and no address at all, the "
        "daemon is `tcp://localhost:2376`. `npipe://` and `fd://` are usage errors. Without "
        "this option, the daemon is chosen as described under DESCRIPTION.",
        "For `ssh://`, imginspect runs `ssh -o ConnectTimeout=30 -T [-l user] [-p port] -- "
        "host docker system dial-stdio` (with a socket path after the host, "
        "`docker --host unix://PATH system dial-stdio`) with the `ssh` on `PATH` and your own "
        "ssh configuration, one ssh for all the images of a run. The remote host needs docker "
        "18.09 or newer on the `PATH` of ssh sessions. A password in the URL is a usage error.",
    ),
    "--diff": (
        "Exactly two images, *A* and *B*, each from the daemon or an archive: their ID, "
        "platform, size, creation time, user, working directory, entrypoint and cmd, "
        "environment, labels, ports, volumes and healthcheck, added, removed or changed, and "
        "the layers they share or not, by diff ID. A view by default; with `--json`, one JSON "
        "document (see OUTPUT). `--platform` applies to both images; `--format` is a usage "
        "error with it. The exit status is diff(1)'s: 0 the same, 1 different, 2 or more for "
        "trouble (an image not found is 2 here).",
    ),
    "--platform": (
        "For an image of the daemon, sent as docker sends it (the `platform` query parameter, "
        "API 1.49 or newer; an older API is a usage error). For an archive that holds several "
        "platforms, the one to read.",
        "Platforms are normalized as docker normalizes them: `Linux/x86_64` is `linux/amd64`, "
        "`aarch64` is `arm64`, `armhf` is `arm`, and an OS version may follow the OS in "
        "parentheses (`windows(10.0.17763)/amd64`). Both the OS and the architecture are "
        "needed: where docker fills in a missing part from the machine it runs on "
        "(`--platform linux`), imginspect exits 2. An empty value means no platform, as in "
        "docker.",
    ),
    "--manifests": (
        "Sent as `manifests=1` (API 1.48 or newer; an older API is a usage error): the daemon "
        "adds a `Manifests` list to each image (each platform's manifest or attestation, "
        "whether it is available here, its sizes), which `--json` and `-f json` print as it "
        "comes and the view lists in a Manifests section.",
    ),
    "--context": (
        "A context made by `docker context create`, read from `$DOCKER_CONFIG/contexts` "
        "(its endpoint and TLS material: see FILES); `default` is the context made of "
        "`--host`, `DOCKER_HOST` and the default socket. A context that does not exist is a "
        "usage error. Not with `--host`.",
    ),
    "--tlsverify": (
        "TLS is on with `--tls`, `--tlsverify`, `DOCKER_TLS` or `DOCKER_TLS_VERIFY`; the "
        "daemon's certificate is checked, against the CA and for the host name or IP address, "
        "with `--tlsverify` or `DOCKER_TLS_VERIFY`. `ca.pem` is always read; `cert.pem` and "
        "`key.pem` are used when both exist. With TLS off the file options are ignored, and "
        "TLS never applies to `unix://` and `ssh://` addresses, nor to a context, which "
        "carries its own TLS settings. A TLS failure exits 3 with a line that names the file "
        "or the check.",
    ),
    "--timeout": (
        "One deadline for each request (connecting, the status line and headers, and the "
        "body) on unix sockets, TCP, TLS and ssh alike, so a daemon that stops answering half "
        "way, or answers a byte at a time, is a daemon problem (exit 3), not a hang. `nan` and "
        "`inf` are usage errors.",
    ),
    "--debug": (
        "`IMGINSPECT_DEBUG=1` does the same. Each line starts with `debug:` and says the "
        "daemon chosen, the rule that chose it and the settings it overrode, the API version "
        "and why, or a request with its answer and time.",
    ),
}

DESCRIPTION_MORE = (
    "Several images are fetched over one connection and printed in the order given. An "
    "image that is not found does not stop the others: what was found is printed, and the "
    "errors follow on standard error, one line each, as `Error:` and the daemon's own "
    "message (control characters shown escaped).",
    "An *IMAGE* is read from an archive instead, with no daemon, when it starts with "
    "`docker-archive:`, `oci-archive:` or `oci:` (the path ends at the next `:`; what "
    "follows names the image inside, or `@N` the N-th, counting from 0), when it names an "
    "existing file or a directory that holds an `index.json` or a `manifest.json`, or when "
    "it contains a `/` and is not an image reference (`./app.tar`; such a path that does not "
    "exist exits 2). Archives are `docker save` and `podman save` archives and OCI layouts, "
    "as directories or tars, possibly compressed with gzip, bzip2 or xz: streamed, never "
    "extracted, every digest checked. The JSON is what `docker image inspect` prints after "
    "`docker load` of the archive on docker 28.5 (classic image store, API 1.51, the newest "
    "API imginspect speaks), or on a daemon of the version `DOCKER_API_VERSION` pins (1.41 "
    "and older: docker 20.10's shape), without what only the daemon that loaded it knows: "
    "`RepoDigests`, `Parent`, `GraphDriver`, `Metadata`. An archive that cannot be read "
    "exits 2, and so do one whose config `docker load` refuses and one that holds several "
    "images or platforms without being told which to read (the error lists them).",
    "An *IMAGE* written `docker://REF` (skopeo's name for the transport) is read from its "
    "registry over the Registry HTTP API v2, with no daemon and nothing pulled. *REF* is "
    "read as `docker pull` reads it: `nginx` is `docker.io/library/nginx:latest`, asked at "
    "`registry-1.docker.io`; a first component with a `.` or `:`, or `localhost`, names the "
    "registry. A multi-platform index gives the image for `--platform`, else for this "
    "machine (linux and its architecture), never an attestation; an index without that "
    "platform exits 1 and lists those it has. Docker v2 and OCI manifests and indexes are "
    "read; a Docker schema 1 manifest is refused (exit 3). The JSON is what `docker image "
    "inspect` prints after `docker pull` of the same reference on docker 28.5 (classic image "
    "store, API 1.51), or on a daemon of the version `DOCKER_API_VERSION` pins (1.41 and "
    "older: docker 20.10's shape), without what "
    "only a pull tells: no `Size` (the layers unpacked), `GraphDriver` or `Metadata`. "
    "`RepoDigests` "
    "holds the digest the reference named: an index's, for a multi-platform image, as "
    "docker records it; a config docker would refuse is a registry problem (exit 3). "
    "Several images are asked at once, each registry over connections "
    "kept alive, and nothing the run has answered (a token, a manifest) is asked again.",
    "Registries are reached as docker reaches them: HTTPS, verified against the system's CAs "
    "and `/etc/docker/certs.d/HOST[:PORT]/`; localhost, 127.0.0.0/8 and registries named by "
    "`--insecure-registry` over HTTPS without verification, then plain HTTP. Credentials "
    "come from `$DOCKER_CONFIG/config.json` (`auths`, `credsStore`, `credHelpers`, helpers "
    "run as `docker-credential-NAME get`); a helper that fails means no credentials, as "
    "`docker pull` goes on without them (`--debug` says why). A bearer challenge gets one "
    "token per repository per run, asked again only when its `expires_in` has passed or the "
    "registry refuses it; a registry whose `/v2/` sets no challenge has the challenge of its "
    "first 401 followed. `HTTPS_PROXY`, `HTTP_PROXY` and `NO_PROXY` are honoured, "
    "`~/.netrc` is not read. Only blob requests follow redirects; manifests are capped at "
    "4 MiB, configs at "
    "8 MiB, and every digest is checked. A 429 whose `Retry-After` fits in `--timeout` is "
    "waited out once; otherwise the run ends there (exit 3), with the images before it "
    "printed. See docs/registries.md in the source for the whole story.",
    "Each *IMAGE* is checked locally with the grammar of docker's `distribution/reference` "
    "(plus full and short hexadecimal IDs) before a request is built: anything else (`../x`, "
    "empty parts, spaces, control characters, `?`, `#`, upper-case repository names) exits "
    "2, so nothing typed can reach another API path.",
    "The daemon is chosen as the docker CLI chooses it: `--context`, else `--host`, else "
    "`DOCKER_HOST`, else `DOCKER_CONTEXT`, else the current context of "
    "`$DOCKER_CONFIG/config.json`, else `unix:///var/run/docker.sock`, and when that does not "
    "exist, the first Podman socket that answers: `$XDG_RUNTIME_DIR/podman/podman.sock`, "
    "then `/run/podman/podman.sock`. A daemon chosen any other way is never replaced by "
    "Podman. Empty variables count as unset. Addresses are `unix://`, `tcp://` (with TLS "
    "when asked), `ssh://` (through `ssh ... docker system dial-stdio`) and `host:port`; "
    "`--debug` says which daemon was chosen and why. The API version is the lower of the "
    "daemon's (from one `GET /_ping`) and 1.50, the version docker CLI 28.2 speaks; a "
    "daemon that sends none is spoken to as 1.24, as docker does. Redirects are never "
    "followed, proxy variables are not used, and answers larger than 64 MiB are refused.",
)

VIEW_SECTIONS = (
    "*Image*: short ID, tags, digests, created (local time, and how long ago), size in SI "
    "units as `docker images` shows it with the exact bytes, platform, author, comment, "
    "parent, docker version.",
    "*Run*: the command line that the entrypoint and cmd make, shell-quoted (and each of "
    "them when both are set), user (`root (no user set)` when the image sets none), working "
    "directory, shell, stop signal, healthcheck (its command, timings and retries), on-build "
    "triggers.",
    "*Environment*: a key and value table, split at the first `=`.",
    "*Ports* and *Volumes*.",
    "*Labels*: sorted, the `org.opencontainers.image.*` ones first and marked `OCI`.",
    "*Layers*: one row per layer, joined with the image's history "
    "(`GET /images/{name}/history`, asked only for the view): number, short diff ID, size, "
    "when it was made and the whole command that made it, wrapped, never cut. A layer "
    "gets a command only when the history leaves no doubt which step made it; where it "
    "leaves doubt, the view asks for the build's step images it names (at most 32), whose "
    "numbers of layers settle it, and otherwise lists the steps that may have made the layer.",
    "*Manifests* (with `--manifests`): one row per manifest, its platform or kind, whether "
    "it is available here, and its sizes.",
    "*Storage*: the graph driver and its data.",
)

OUTPUT = {
    "view": (
        "Without `--json` or `--format`, each image is one block, headed by the reference "
        "asked for and the full ID, with these sections (an empty section is left out):",
        "If the history cannot be read or does not match the layers, the layers are listed "
        "by diff ID alone under a `Note:` line that says why, and the exit status does not "
        "change; a daemon that stops answering does (3).",
        "Strings from the daemon are data, never markup: control characters, bidirectional "
        "controls, line separators and other invisible characters are shown escaped "
        "(`\\x1b`, `\\u202e`), so a label cannot change the terminal or the output.",
        "The view is plain UTF-8 text without trailing spaces when piped. Its width is "
        "`COLUMNS`, else the terminal's, else 80; it is laid out for any width from 40 "
        "columns. Times are local (`TZ`).",
    ),
    "json": (
        "`--json` prints the daemon's objects in one JSON array, indented with four spaces "
        "the way Go's `json.Indent` does it: the daemon's key order, number literals and "
        "string escapes (`\\u003c`, `\\u001b`) are kept byte for byte, and a newline "
        "follows. This is exactly what `docker image inspect` prints; nothing found prints "
        "`[]`.",
    ),
    "format": (
        "`--format` *TEMPLATE* prints the template's output and a newline for each image "
        "found, the same bytes `docker image inspect -f` prints (see FORMAT). `-f json` "
        "prints the same array as `--json` in compact form, on one line.",
    ),
    "quiet": ("`--quiet` prints nothing: the exit status says whether every image exists.",),
    "diff": (
        "`--diff` prints a view of what differs: the settings, each marked `-` (only in A), "
        "`+` (only in B) or `~` (changed), then the layers, shared, only in A and only in B, "
        "each with its size and each group with its total. An empty setting counts as not "
        "set. With `--json` it prints one JSON document, indented by four spaces, with "
        "characters that could act on a terminal written as `\\u` escapes. Its keys:",
    ),
    "contents": (
        "`--contents` prints a block for each image: its name and ID; *Image*, its size as "
        "docker counts it (for a registry's image, the sum of its layers), dive's efficiency, "
        "wasted bytes (and their share of the user size) and user size (every layer but the "
        "first); *Largest files*, the 10 largest of the final filesystem; *Layers*, each "
        "with its diff ID, the bytes it adds, the files it adds, changes and removes, and "
        "the history step that made it where the history says; *Wasted space*, the 10 paths "
        "that waste most, with how many layers hold them and their bytes. Paths are shown "
        "escaped as every string of the view is.",
        "`--contents --json` prints one JSON array with an object for each image: `name` (as "
        "asked), `id`, `size`, `efficiency`, `sizeBytes`, `userSizeBytes`, `wastedBytes`, "
        "`wastedUserPercent` (a ratio, as dive's), `inefficiencies` (`path`, `count`, "
        "`sizeBytes`), `largest` (entries) and `layers` (`index` from 1, `digest`, `diffId`, "
        "`size`, `added`, `changed`, `removed`, and `entries`, each with `path`, `type`, "
        "`mode` (a number), `uid`, `gid`, `size`, `linkTarget` (null if none) and `change`: "
        "`added`, `changed` or `removed`). docs/contents.md in the source has the schema.",
        "`--files` prints the final filesystem as GNU `tar -tv` lists a tar of it.",
        "The numbers are dive's, to the last digit; like dive, the waste ignores opaque "
        "directory markers, which the merged tree follows.",
    ),
    "pipe": (
        "All output goes to standard output and every error to standard error. A closed "
        "pipe (`imginspect ... | head -1`) is not an error: output stops quietly.",
    ),
}

DIFF_KEYS = (
    ("same", "true when nothing differs: no changes and no layer in only one image."),
    (
        "a, b",
        "each image: `image` as given on the command line, `id`, `tags`, `platform`, `size` "
        "(bytes), `created`; null where unknown.",
    ),
    (
        "changes",
        "a list of objects with `field` (`id`, `platform`, `size`, `created`, `user`, "
        "`workdir`, `entrypoint`, `cmd`, `env`, `labels`, `ports`, `volumes` or "
        "`healthcheck`, in that order), `change` (`added`, `removed` or `changed`), `key` "
        "(the variable, label, port or path; null for the other fields), `a` and `b` (the "
        "values as JSON; null where there is none, and always for ports and volumes), and for "
        "`size`, `delta` (b - a, in bytes).",
    ),
    (
        "layers",
        "`shared`, `only_a` and `only_b`, lists of `diff_id` and `size` in image order, and "
        "`shared_size`, `only_a_size` and `only_b_size`, their totals; a size is null when "
        "unknown.",
    ),
)

# What each function does, in the words of Go's text/template and docker's templates package.
FUNCTIONS: Mapping[str, str] = {
    "and": "the first empty argument, or the last one",
    "or": "the first non-empty argument, or the last one",
    "not": "the boolean negation of its argument",
    "len": "the length of a string, list or map",
    "index": 'the element at the given indexes or keys: `index .Config.Labels "maintainer"`',
    "slice": "a slice of a string or list: `slice .Id 7 19`",
    "print": "the arguments printed as Go's `fmt.Sprint` does",
    "printf": "the arguments formatted as Go's `fmt.Sprintf` does, verbs, flags and widths",
    "println": "the arguments printed as Go's `fmt.Sprintln` does",
    "html": "the text escaped for HTML",
    "js": "the text escaped for JavaScript",
    "urlquery": "the text escaped for a URL query",
    "call": "the result of calling a function value",
    "eq": "whether the first argument equals any of the others",
    "ne": "whether the two arguments differ",
    "lt": "whether the first argument is less than the second",
    "le": "whether the first argument is less than or equal to the second",
    "gt": "whether the first argument is greater than the second",
    "ge": "whether the first argument is greater than or equal to the second",
    "json": "the value as JSON, on one line (docker)",
    "split": 'the string split at a separator: `split .Id ":"` (docker)',
    "join": 'the strings joined with a separator: `join .RepoTags ","` (docker)',
    "title": "the string with each word capitalised (docker)",
    "lower": "the string in lower case (docker)",
    "upper": "the string in upper case (docker)",
    "pad": "the string with spaces added before and after: `pad .Os 1 2` (docker)",
    "truncate": "the string cut to a length: `truncate .Id 19` (docker)",
}

FORMAT_LANGUAGE = (
    "actions, comments `{{/* */}}`, trim markers `{{-` and `-}}`; string (both quotings), "
    "character, number, boolean and `nil` constants; pipelines, parentheses and variables "
    "(`$`, `$x :=`, `$x =`);",
    "`if`, `else if`, `else`; `range` over lists, maps (in key order) and integers, with "
    "`$i, $v :=`, `else`, `break` and `continue`; `with`, `else with`; `define`, "
    "`template` and `block`;",
    "the functions below, Go's and docker's;",
    "the methods of Go's `time.Time` (`.Metadata.LastTagTime`) and `time.Duration` (the "
    "healthcheck's timings) that docker's struct has: `.Format` with Go's layouts, `.Unix`, "
    "`.UTC`, `.Local` (the zone of `TZ`), `.Seconds`, `.String` and the others.",
)

FORMAT_LIMITS = (
    ("template text", "256 KiB, nested 100 deep (a syntax error, exit 2)."),
    ("template calling template", "100 deep."),
    (
        "work for one image",
        "8,000,000 steps: a node walked or a range iteration is 1, a pipeline command 8, a "
        "field, key or method looked up 4, a function or method called 16, a value printed 2.",
    ),
    ("output for one image", "16 MiB, and so is any one string made on the way."),
    ("a value printed or turned into JSON", "nested 100 deep."),
)

FORMAT_TWO_MODES = (
    "Like docker, a template first runs on docker's Go struct for the image, which is why "
    "`{{.Config.Healthcheck.Interval}}` prints `30s`, `{{.Metadata.LastTagTime}}` prints a "
    "Go time and `{{.ID}}` works. If that fails, the whole template runs again on the raw "
    "JSON, which is why `{{.Id}}` works too and `{{.Nope}}` fails with "
    '`map has no entry for key "Nope"`.',
    "A template that does not parse exits 2 before the daemon is asked, with the line, the "
    "column and a caret under the spot. A template that fails on an image prints nothing for "
    "that image and one line on standard error in text/template's words, and the run exits "
    "4. When no image succeeds, a single empty line is printed, as docker does.",
)

FORMAT_DIFFERENCES = (
    "Where docker prints a Go pointer address inside a value (`{{.}}`, `{{.Config}}` print "
    "`0xc000123456` for the healthcheck), imginspect prints the value it points to, as "
    "`&{...}`: the same output on every run.",
    "docker exits 64 for a template that does not parse and 1 for one that fails; imginspect "
    "exits 2 and 4. Where docker says `template parsing error: template: ...`, imginspect "
    "says `Error: template: ...` like every other error.",
    "If the daemon's JSON does not fit docker's Go struct (a field of the wrong type), docker "
    "refuses the image; imginspect runs the template on the raw JSON instead.",
    "Templates are bounded (see Limits); docker's run as long and print as much as they will.",
    "On a terminal, characters that could act on it (escape sequences, other control "
    "characters, bidirectional overrides, invisible characters) are shown escaped, newlines "
    "and tabs aside; to a file or a pipe the output is the template's, byte for byte.",
)

FORMAT_EXAMPLES = (
    "imginspect -f '{{.Id}}' app:1.0",
    "imginspect -f '{{join .RepoTags \",\"}}' app:1.0",
    "imginspect -f '{{range $k, $v := .Config.Labels}}{{$k}}={{$v}}{{\"\\n\"}}{{end}}' app:1.0",
    "imginspect -f '{{with .Config.Healthcheck}}{{.Interval}}{{else}}none{{end}}' app:1.0",
    "imginspect -f '{{.Os}}/{{.Architecture}} {{printf \"%q\" .Config.Entrypoint}}' app:1.0",
)

EXAMPLES: Sequence[tuple[str, Sequence[str]]] = (
    ("Show an image, readably; then page it with its colours:", ()),
    ("", ("imginspect nginx:latest", "imginspect --color=always app:1.0 | less -R")),
    ("Compare two images side by side, at a width that fits:", ()),
    ("", ("COLUMNS=100 imginspect app:1.0 app:1.1",)),
    ("The daemon's JSON, for jq, or as one compact array:", ()),
    (
        "",
        (
            "imginspect --json app:1.0 | jq '.[0].Config.Env'",
            "imginspect -f json app:1.0 db:2",
            "imginspect -f json app:1.0 db:2 | jq -c '.[].RepoTags'",
        ),
    ),
    ("One value per image, as docker image inspect -f prints it:", ()),
    (
        "",
        (
            "imginspect -f '{{.Config.User}} {{json .Config.Cmd}}' app:1.0",
            "imginspect -f '{{.Id}} {{.Size}}' app:1.0 db:2",
        ),
    ),
    ("In a script: pull an image only when it is missing, and tell the failures apart:", ()),
    (
        "",
        (
            "imginspect -q app:1.0 || docker pull app:1.0",
            "",
            "imginspect -q app:1.0",
            "case $? in",
            "0) echo present ;;",
            "1) echo missing ;;",
            "*) echo 'cannot tell: see the error above' >&2; exit 1 ;;",
            "esac",
        ),
    ),
    ("Every image the daemon has, or those a filter keeps (as docker image ls --filter):", ()),
    (
        "",
        (
            "imginspect --all --json",
            "imginspect --all --filter dangling=true -f '{{.Id}} {{.Size}}'",
            "imginspect --all --filter label=org.opencontainers.image.version -q",
        ),
    ),
    ("Read an image from an archive or an OCI layout, with no daemon:", ()),
    (
        "",
        (
            "imginspect ./app.tar",
            "imginspect oci:./layout:1.0 --platform linux/arm64",
        ),
    ),
    ("What changed between two images (exit 1 if anything did):", ()),
    ("", ("imginspect --diff app:1.0 ./app-1.1.tar",)),
    ("An image in its registry, without pulling it; is the local one the same?", ()),
    (
        "",
        (
            "imginspect docker://nginx:1.27",
            "imginspect docker://nginx:1.27 --platform linux/arm64",
            "imginspect --diff app:1.0 docker://registry.example.com/team/app:1.0",
        ),
    ),
    ("What is inside an image and why it is big; its files, as tar lists them:", ()),
    (
        "",
        (
            "imginspect --contents app:1.0",
            "imginspect --contents --json app:1.0 | jq '.[0].inefficiencies[:3]'",
            "imginspect --files=usr/share ./app.tar",
        ),
    ),
    ("Gate a build on wasted space, as dive --ci does (exit 5 if a rule is broken):", ()),
    (
        "",
        (
            "imginspect --ci app:1.0",
            "imginspect --ci-config ci/.dive-ci --highest-wasted-bytes 20MB app:1.0",
        ),
    ),
    ("Ask another daemon, or Podman's socket:", ()),
    (
        "",
        (
            "imginspect -H tcp://build-host:2375 app:1.0",
            "imginspect --context build-host app:1.0",
            "DOCKER_HOST=unix:///run/podman/podman.sock imginspect app:1.0",
        ),
    ),
)

FILES = (
    (
        "share/man/man1/imginspect.1",
        "This page. With the environment's bin directory on `PATH`, `man imginspect` finds it.",
    ),
    (
        "share/bash-completion/completions/imginspect",
        "Completion for bash: source it from `~/.bashrc`, or let bash-completion load it from "
        "a completions directory.",
    ),
    (
        "share/zsh/site-functions/_imginspect",
        "Completion for zsh: add its directory to `fpath` before `compinit` runs.",
    ),
    (
        "share/fish/vendor_completions.d/imginspect.fish",
        "Completion for fish: add its directory to `fish_complete_path`, or link it into "
        "`~/.config/fish/completions`.",
    ),
)

EXIT_STATUS_MORE = (
    "In full, status 2 also covers a bad daemon address, a context that does not exist, an "
    "option the daemon's API version lacks, a name the daemon refuses as malformed (its 400 "
    "answer, with its message), and with "
    "`--diff` an image not found: the problem is what was typed, and trying again changes "
    "nothing. Status 3 also covers a TLS or ssh failure, an answer that is not what the "
    "API promises, a registry's refusal (unauthorized, denied), its rate limit, and a "
    "manifest in a format not read (Docker schema 1). Status 5 is `--ci` only: an image "
    "broke a rule; a rule's value or a `.dive-ci` that cannot be read is status 2. An "
    "image, tag or digest a registry does not have, or an index without the platform, is "
    "status 1. Status 74 is a full disk or a closed file; a closed pipe is not an error: "
    "output stops quietly, and the "
    "status is that of the work done.",
)

FILES_INTRO = (
    "Under the prefix imginspect is installed in (a virtual environment, `~/.local`, "
    "`/usr/local`):",
)

FILES_READ_INTRO = ("Read as the docker CLI reads them:",)
FILES_READ = (
    (
        "$DOCKER_CONFIG/config.json",
        "Its `currentContext` (what `docker context use` writes). One that cannot be parsed "
        "is ignored with a `Warning:` line, as docker does.",
    ),
    (
        "$DOCKER_CONFIG/contexts/meta/SHA256/meta.json",
        "A context's endpoint, and its `SkipTLSVerify`; *SHA256* is the SHA-256 of the "
        "context's name, in hex.",
    ),
    (
        "$DOCKER_CONFIG/contexts/tls/SHA256/docker/",
        "A context's `ca.pem`, `cert.pem` and `key.pem`.",
    ),
    (
        "$DOCKER_CERT_PATH/ca.pem, cert.pem, key.pem",
        "The CA, client certificate and key for TLS, unless `--tlscacert`, `--tlscert` or "
        "`--tlskey` name others.",
    ),
    (
        "/etc/docker/certs.d/HOST[:PORT]/",
        "A registry's CAs (`*.crt`), and its client certificate (`*.cert` with the `*.key` "
        "of the same name); `IMGINSPECT_CERTS_D` names another directory.",
    ),
    (
        "$DOCKER_CONFIG/config.json auths, credsStore, credHelpers",
        "Registry credentials: `auth` (user:password in base64) or `identitytoken`, or the "
        "credential helper that keeps them.",
    ),
    ("/var/run/docker.sock", "The default daemon."),
    (
        "$XDG_RUNTIME_DIR/podman/podman.sock, /run/podman/podman.sock",
        "Podman's sockets, tried when the default daemon's socket does not exist.",
    ),
)
COMPLETION_NOTE = (
    "TAB completes options, `--color`'s values, `--context`'s names and the names of local "
    "images (`repo:tag`, "
    "and IDs when the word is hexadecimal), which the completion asks the daemon for with "
    "one `GET /images/json` and a short timeout. When the daemon cannot be reached it offers "
    "nothing and prints nothing.",
)

SEE_ALSO = (("docker-image-inspect", 1), ("docker", 1), ("podman-image-inspect", 1), ("jq", 1))
TEXT_TEMPLATE_URL = "https://pkg.go.dev/text/template"
SOURCE_DOCS = (
    "imginspect's source has more: `README.md`, and `docs/` on the view, templates, "
    "archives, `--diff`, `--contents` and `--ci`, daemons, reliability and performance.",
)


# -- the page ---------------------------------------------------------------------------------
