"""`imginspect -f` against `docker image inspect -f` (CLI 28) on the same daemon, byte for byte.

The expected bytes come from running docker in the test; nothing is written down by hand.
"""

import shlex
from pathlib import Path

import pytest

from tests.daemon_fixture import DockerDaemon, FixtureImages
from tests.helpers import imginspect

# Format strings people use (docker's docs, scripts in the wild), then every function, verb,
# control structure and error path. Each runs over several images in one call.
FORMATS = [
    # fields, typed and raw
    "{{.Id}}",
    "{{.ID}}",
    "{{.RepoTags}}",
    "{{.RepoDigests}}",
    "{{.Parent}}",
    "{{.Comment}}",
    "{{.Created}}",
    "{{.Container}}",
    "{{.DockerVersion}}",
    "{{.Author}}",
    "{{.Architecture}}",
    "{{.Variant}}",
    "{{.Os}}",
    "{{.OsVersion}}",
    "{{.Size}}",
    "{{.VirtualSize}}",
    "{{.Os}}/{{.Architecture}}",
    "{{.GraphDriver}}",
    "{{.GraphDriver.Name}}",
    "{{.GraphDriver.Data}}",
    "{{.RootFS}}",
    "{{.RootFS.Type}}",
    "{{.RootFS.Layers}}",
    "{{.Metadata}}",
    "{{.Metadata.LastTagTime}}",
    "{{.Metadata.LastTagTime.Unix}}",
    # time.Time and time.Duration methods (tagged images have a LastTagTime, others Go's zero)
    '{{.Metadata.LastTagTime.Format "2006-01-02T15:04:05.000Z07:00 Mon Jan _2 3:04PM MST"}}',
    "{{.Metadata.LastTagTime.Year}}-{{.Metadata.LastTagTime.Month}}-{{.Metadata.LastTagTime.Day}}",
    "{{.Metadata.LastTagTime.Weekday}} {{.Metadata.LastTagTime.YearDay}} "
    "{{.Metadata.LastTagTime.Hour}}:{{.Metadata.LastTagTime.Minute}}",
    "{{.Metadata.LastTagTime.UTC}} {{.Metadata.LastTagTime.Local}} "
    "{{.Metadata.LastTagTime.IsZero}}",
    "{{.Metadata.LastTagTime.UnixNano}} {{.Metadata.LastTagTime.UnixMilli}}",
    "{{.Metadata.LastTagTime.Truncate 3600000000000}} {{.Metadata.LastTagTime.Round 60000000000}}",
    "{{.Metadata.LastTagTime.AddDate 0 1 -3}} {{.Metadata.LastTagTime.Add -1500}}",
    "{{.Metadata.LastTagTime.Sub (.Metadata.LastTagTime.AddDate 0 0 -2)}}",
    "{{.Metadata.LastTagTime.Before (.Metadata.LastTagTime.Add 1)}} "
    "{{.Metadata.LastTagTime.Equal .Metadata.LastTagTime.UTC}}",
    '{{printf "%#v %T %d" .Metadata.LastTagTime .Metadata.LastTagTime.Month '
    ".Metadata.LastTagTime.Weekday}}",
    "{{.Metadata.LastTagTime.Location}} {{.Metadata.LastTagTime.MarshalText}}",
    "{{with .Config.Healthcheck}}{{.Interval.Seconds}} {{.Interval.Minutes}} {{.Interval.Hours}}"
    " {{.Timeout.Milliseconds}} {{.StartPeriod.Round 60000000000}} {{.Interval.Abs}}{{end}}",
    '{{printf "%v %T" .Config.Healthcheck.Interval.Seconds .Config.Healthcheck.Interval.Seconds}}',
    "{{.Metadata.LastTagTime.Zone}}",
    "{{.Descriptor}}",
    "{{.Manifests}}",
    "{{.Config.Cmd}}",
    "{{.Config.Entrypoint}}",
    "{{.Config.Env}}",
    "{{.Config.User}}",
    "{{.Config.WorkingDir}}",
    "{{.Config.StopSignal}}",
    "{{.Config.Labels}}",
    "{{.Config.ExposedPorts}}",
    "{{.Config.Volumes}}",
    "{{.Config.OnBuild}}",
    "{{.Config.Shell}}",
    "{{.Config.Healthcheck}}",
    "{{.Config.Healthcheck.Test}}",
    "{{.Config.Healthcheck.Interval}}",
    "{{.Config.Healthcheck.Timeout}} {{.Config.Healthcheck.StartPeriod}}",
    "{{.Config.Healthcheck.Retries}}",
    "{{.Config.ArgsEscaped}}",
    "{{.Config.ImageConfig.User}}",
    "{{.ContainerConfig.Hostname}}",
    "{{.ContainerConfig.Cmd}}",
    "{{.ContainerConfig.ExposedPorts}}",
    "{{.ContainerConfig.StopTimeout}}",
    "{{.ContainerConfig.Image}}",
    "{{.Config.Labels.maintainer}}",
    "{{.Config.Labels.nope}}",
    "{{.Nope}}",
    "{{.Config.Nope}}",
    "{{.Id.Nope}}",
    "{{.RepoTags.Nope}}",
    # json
    "{{json .}}",
    "{{json .Config}}",
    "{{json .ContainerConfig}}",
    "{{json .RepoTags}}",
    "{{json .RepoDigests}}",
    "{{json .Config.Labels}}",
    "{{json .Config.Env}}",
    "{{json .Config.ExposedPorts}}",
    "{{json .Config.Healthcheck}}",
    "{{json .Metadata}}",
    "{{json .GraphDriver}}",
    "{{json .RootFS}}",
    "{{json .Size}}",
    "{{json .Id}}",
    "{{json .Descriptor}}",
    "{{json .Nope}}",
    '{{json "a<b>&c"}}',
    # index, len, slice
    "{{index .RepoTags 0}}",
    "{{index .RepoTags 5}}",
    '{{index .Config.Labels "maintainer"}}',
    '{{index .Config.Labels "org.opencontainers.image.title"}}',
    '{{index .Config.Labels "nope"}}',
    "{{index .RootFS.Layers 0}}",
    "{{len .RepoTags}}",
    "{{len .RootFS.Layers}}",
    "{{len .Config.Env}}",
    "{{len .Config.Labels}}",
    "{{len .Id}}",
    "{{len .Size}}",
    "{{slice .Id 7 19}}",
    "{{slice .Id 7}}",
    "{{slice .RepoTags 1}}",
    "{{slice .Id 70}}",
    # range, if, with, variables
    "{{range .RepoTags}}{{.}} {{end}}",
    "{{range $i, $t := .RepoTags}}{{$i}}={{$t}};{{end}}",
    "{{range .Config.Env}}{{println .}}{{end}}",
    "{{range $k, $v := .Config.Labels}}{{$k}}={{$v}}\n{{end}}",
    "{{range $p, $_ := .Config.ExposedPorts}}{{$p}} {{end}}",
    "{{range .RepoDigests}}{{.}}{{else}}none{{end}}",
    "{{range .RootFS.Layers}}{{slice . 7 19}} {{end}}",
    "{{range $i, $e := .Config.Env}}{{if $i}},{{end}}{{$e}}{{end}}",
    '{{range .RepoTags}}{{if eq . "lab-full:latest"}}{{break}}{{end}}{{.}} {{end}}',
    '{{range .RepoTags}}{{if eq . "lab-full:latest"}}{{continue}}{{end}}{{.}} {{end}}',
    "{{range 3}}{{.}}{{end}}",
    # range over an integer: 0 to n-1 in the integer's own type, nothing at all for n <= 0
    "{{range .Size}}{{end}}ok",
    "{{range $i := 3}}{{$i}}{{end}}",
    "{{range -1}}x{{else}}none{{end}}",
    "{{$n := 9}}{{range $n = len .RepoTags}}{{end}}{{$n}}",
    '{{range $i := .Metadata.LastTagTime.Month}}{{printf "%T %v;" $i $i}}{{end}}',
    '{{range $i := .Config.Healthcheck.Interval}}{{printf "%T %v;" $i $i}}'
    '{{if eq (print $i) "2ns"}}{{break}}{{end}}{{end}}',
    '{{range $i := index .Os 0}}{{if eq $i 2}}{{printf "%T %v" $i $i}}{{break}}{{end}}{{end}}',
    "{{range $i, $e := .Size}}{{end}}",
    '{{if index . "Size"}}{{range .Size}}x{{end}}{{end}}',  # the raw run's json.Number: refused
    "{{range 1.5}}{{end}}",
    "{{range .Config.Healthcheck}}x{{else}}none{{end}}",
    # a constant body over a count of about 2 million: run once and repeated, within the limits
    '{{range .VirtualSize}}{{""}}{{end}}',
    '{{range .Size}}{{"a"}}{{end}}',
    "{{range $i := .VirtualSize}}{{if true}}{{end}}{{end}}ok",
    '{{range .Size}}{{with "w"}}{{end}}-{{end}}',
    '{{range .Size}}{{index "" 1}}{{end}}',
    "{{if .RepoDigests}}pushed{{else}}local{{end}}",
    "{{if .Config.Healthcheck}}health{{else if .Config.Labels}}labels{{else}}bare{{end}}",
    "{{if and .RepoTags .Config.Labels}}both{{end}}",
    "{{if or .RepoDigests .Config.Labels}}either{{end}}",
    "{{if not .RepoTags}}untagged{{end}}",
    "{{with .Config.Healthcheck}}{{.Interval}}/{{.Retries}}{{else}}no healthcheck{{end}}",
    "{{with .Config.User}}user={{.}}{{else with .Config.WorkingDir}}dir={{.}}{{else}}-{{end}}",
    "{{$id := .Id}}{{$id}}",
    "{{$n := 0}}{{range .RepoTags}}{{$n = len .}}{{end}}{{$n}}",
    "{{$.Os}}{{range .RepoTags}}{{$.Architecture}}{{end}}",
    # comparisons
    '{{eq .Os "linux"}}',
    '{{ne .Architecture "arm64"}}',
    "{{eq .Size 0}}",
    "{{gt .Size 0}}",
    "{{lt (len .RepoTags) 2}}",
    "{{le 1 2}} {{ge 2.5 2.5}}",
    '{{eq .Os "linux" "darwin"}}',
    '{{eq "a" 1}}',
    "{{eq .RepoTags .RepoTags}}",
    # print family and printf verbs
    "{{print .Os .Architecture}}",
    "{{print 1 2 .Os 3}}",
    "{{println .Os .Size}}",
    '{{printf "%s/%s" .Os .Architecture}}',
    '{{printf "%d" .Size}}',
    '{{printf "%v|%+v" .RootFS .RootFS}}',
    '{{printf "%q" .RepoTags}}',
    '{{printf "%x %X" .Os .Os}}',
    '{{printf "%10s|%-10s|" .Os .Os}}',
    '{{printf "%.3s" .Id}}',
    '{{printf "%08.3f|%e|%g" 3.14159 1234.5678 0.000012}}',
    '{{printf "%5d|%-5d|%05d|%+d|%x|%o|%b" 42 42 42 42 255 8 5}}',
    '{{printf "%t %v" true false}}',
    '{{printf "%c%c %U" 72 105 0x1F600}}',
    '{{printf "%T %T %T %T" .Size .Config .Metadata.LastTagTime .Config.Healthcheck}}',
    '{{printf "%T %T %T" .RepoTags .Config.Labels .Config.ExposedPorts}}',
    '{{printf "%d" .Os}}',
    '{{printf "%s"}}',
    '{{printf "%s" 1 2}}',
    '{{printf "%!"}}',
    '{{printf "%v" .Config.Healthcheck.Interval}}',
    '{{printf "%d" .Config.Healthcheck.Interval}}',
    '{{printf "%s" .Metadata.LastTagTime}}',
    '{{printf "%6.2f%%" 12.3456}}',
    # strings, html, js, urlquery
    '{{html "<a href=\\"x\\">&</a>"}}',
    '{{js "it\'s <b>\\"q\\"</b>"}}',
    '{{urlquery "a b&c=d/é"}}',
    "{{html .Config.Labels}}",
    # docker's functions
    '{{join .RepoTags ","}}',
    '{{join .Config.Env "\\n"}}',
    '{{split .Id ":"}}',
    '{{index (split .Id ":") 1}}',
    "{{upper .Os}}",
    "{{lower .Architecture}}",
    '{{title "hello world"}}',
    "{{pad .Os 2 3}}|",
    '{{pad "" 2 3}}|',
    "{{truncate .Id 19}}",
    "{{truncate .Os 100}}",
    '{{join (split "a,b,c" ",") "+"}}',
    # pipelines and parentheses
    "{{.Os | upper}}",
    '{{.Id | printf "%.19s"}}',
    "{{.RepoTags | len}}",
    '{{(index .RepoTags 0) | printf "%q"}}',
    '{{printf "%s-%s" (upper .Os) (lower .Architecture)}}',
    # define, template, block, comments, trim markers
    '{{define "T"}}[{{.}}]{{end}}{{template "T" .Os}}',
    '{{block "B" .Architecture}}<{{.}}>{{end}}',
    "{{/* a comment */}}{{.Os}}",
    "{{- .Os -}}  \n  {{- .Architecture }}",
    "a  {{- /* trimmed */ -}}  b",
    # constants
    "{{1}} {{1.5}} {{0x1F}} {{1e3}} {{'a'}} {{true}} {{`raw\\n`}} {{\"esc\\t\"}}",
    "{{nil}}",
    "{{print nil}}",
    # the whole value ({{.}} and {{.Config}} print Go pointer addresses in docker: not here)
    "{{len .}}",
    "{{.RootFS.Layers}} {{.Config.Volumes}} {{.GraphDriver.Data}}",
    # errors at run time
    "{{index .Config.Env 99}}",
    "{{.Config.Cmd.Nope}}",
    '{{template "missing"}}',
    "{{len 3}}",
    "{{slice .Os 3 1}}",
    "{{call .Os}}",
    # syntax errors (docker refuses them before asking the daemon)
    "{{.Id",
    "{{end}}",
    "{{if .Id}}",
    "{{nope .Id}}",
    "{{.Id | }}",
    "{{$x}}",
    "{{range}}{{end}}",
    "{{printf 'ab'}}",
]


def _images(images: FixtureImages) -> list[str]:
    return [images.full_tags[0], images.tiny, images.hostile, images.pushed_ref, images.untagged_id]


def test_there_are_at_least_150_distinct_formats() -> None:
    assert len(set(FORMATS)) == len(FORMATS) >= 150


@pytest.mark.parametrize("template", FORMATS)
def test_format_output_and_success_match_docker(docker_daemon: DockerDaemon, template: str) -> None:
    images = _images(docker_daemon.images)
    expected = docker_daemon.docker("image", "inspect", "-f", template, *images, check=False)
    got = imginspect(docker_daemon, "-f", template, *images)
    assert got.stdout == expected.stdout, got.stderr.decode()
    assert (got.returncode == 0) == (expected.returncode == 0), (expected.stderr, got.stderr)
    assert b"Traceback" not in got.stderr


@pytest.mark.parametrize(
    "template", ["{{.Id}}", "{{json .Config}}", "{{.Nope}}", "{{.Config.Healthcheck.Interval}}"]
)
def test_one_image_and_missing_images_match_docker(
    docker_daemon: DockerDaemon, template: str
) -> None:
    for images in ([docker_daemon.images.tiny], ["lab-missing:1"], ["lab-missing:1", "lab-tiny:1"]):
        expected = docker_daemon.docker("image", "inspect", "-f", template, *images, check=False)
        got = imginspect(docker_daemon, "-f", template, *images)
        assert got.stdout == expected.stdout
        assert (got.returncode == 0) == (expected.returncode == 0)


def test_a_range_over_the_image_size_prints_what_docker_prints(docker_daemon: DockerDaemon) -> None:
    template, image = "{{range .Size}}x{{end}}", docker_daemon.images.tiny  # about 2 MB
    expected = docker_daemon.docker("image", "inspect", "-f", template, image)
    got = imginspect(docker_daemon, "-f", template, image)
    assert (got.returncode, got.stdout) == (0, expected.stdout)
    assert len(got.stdout) > 1_900_000


def test_a_template_past_a_limit_says_so_and_exits_4(docker_daemon: DockerDaemon) -> None:
    got = imginspect(docker_daemon, "-f", "{{range .Size}}{{range 9}}x{{end}}{{end}}", "lab-tiny:1")
    assert got.returncode == 4
    assert got.stdout == b"\n"
    assert b"template too expensive: more than 8000000 steps" in got.stderr


def _documented_templates() -> list[str]:
    """The templates of docs/templates.md's first examples, which say docker prints the same."""
    document = (Path(__file__).resolve().parent.parent / "docs" / "templates.md").read_text()
    block = document.split("```sh\n", 1)[1].split("```", 1)[0]
    return [
        shlex.split(line)[2] for line in block.splitlines() if line.startswith("imginspect -f ")
    ]


def test_the_templates_document_has_format_examples() -> None:
    assert len(_documented_templates()) >= 4


@pytest.mark.parametrize("template", _documented_templates())
def test_the_documented_format_examples_print_what_docker_prints(
    docker_daemon: DockerDaemon, template: str
) -> None:
    image = docker_daemon.images.full_tags[0]
    expected = docker_daemon.docker("image", "inspect", "-f", template, image)
    got = imginspect(docker_daemon, "-f", template, image)
    assert (got.returncode, got.stdout) == (0, expected.stdout)
