"""The site file: cameras, their calibration and the analysis settings.

Validated once, here, at the edge (pydantic, extra="forbid"); every field has a
description, and an error names the file, the camera and the field.
"""

from __future__ import annotations

from datetime import datetime
from pathlib import Path
from typing import Annotated, Literal, Union

import yaml
from pydantic import Field, ValidationError, field_validator, model_validator

from vigie.describe.config import AppearanceConfig, AttributesConfig
from vigie.errors import ConfigError
from vigie.i18n import N_, _
from vigie.rules.registry import NOT_SUPPORTED, RuleConfig
from vigie.times import place
from vigie.timezones import known_timezone
from vigie.track.config import TrackerConfig
from vigie.types import CARRIED_OBJECTS, PEOPLE_AND_VEHICLES
from vigie.validated import StrictModel

# --- detectors: a discriminated union on `type`, one model per backend --------


class YoloV3TinyConfig(StrictModel):
    type: Literal["yolov3-tiny"] = "yolov3-tiny"
    input_size: int = Field(608, description="Square network input in pixels, a multiple of 32.", ge=128, le=1024)
    confidence: float = Field(
        0.1,
        description="Lowest score kept; the tracker's low-score stage uses the band below its high threshold.",
        ge=0.0,
        le=1.0,
    )
    nms_iou: float = Field(0.45, description="IoU above which two boxes of a class are one object.", gt=0.0, le=1.0)
    threads: int = Field(1, description="OpenCV threads for inference (1 = one camera per core).", ge=1, le=64)

    @field_validator("input_size")
    @classmethod
    def _multiple_of_32(cls, v: int) -> int:
        if v % 32:
            raise ValueError(_("must be a multiple of 32, got {v}", v=v))
        return v


class NanoDetConfig(StrictModel):
    type: Literal["nanodet"] = "nanodet"
    input_size: Literal[416] = Field(
        416, description="Long side of the network input in pixels; the TF.js graph is built for 416."
    )
    input_shape: Literal["frame", "square"] = Field(
        "frame",
        description="'frame': the network input takes the frame's aspect (416x256 for 16:9, 416x320 for 4:3; "
        "the graph is re-targeted, vigie.detect.tfjs.input_size), so no work is spent on letterbox padding; "
        "'square': the graph's own 416x416.",
    )
    confidence: float = Field(
        0.1,
        description="Lowest class score kept; the tracker's thresholds decide what starts or extends a track.",
        ge=0.0,
        le=1.0,
    )
    nms_iou: float = Field(0.5, description="IoU above which two boxes of a class are one object.", gt=0.0, le=1.0)
    threads: int = Field(1, description="onnxruntime intra-op threads (1 = one camera per core).", ge=1, le=64)
    precision: Literal["fp32", "int8"] = Field(
        "fp32",
        description="int8 convolutions (calibrated on Debian's darknet sample photos): about a third faster and the same "
        "person AP on PETS09, but vehicles lose score (the pickup of darknet's dog.jpg falls from 0.46 to 0.22): for person-only cameras.",
    )


class CenterNetConfig(StrictModel):
    type: Literal["centernet"] = "centernet"
    input_size: Literal[512] = Field(
        512, description="Square network input in pixels; the TF.js graph is built for 512 only."
    )
    confidence: float = Field(
        0.1,
        description="Lowest score kept (about 0.42 is the best cut for boxes used alone; the tracker wants the low ones too).",
        ge=0.0,
        le=1.0,
    )
    nms_iou: float = Field(0.5, description="IoU above which two boxes of a class are one object.", gt=0.0, le=1.0)
    threads: int = Field(1, description="onnxruntime intra-op threads (1 = one camera per core).", ge=1, le=64)


MODEL_FILE = (
    "Model file: absolute, or relative to $VIGIE_DATA/models or a folder of $VIGIE_MODELS (default: the file "
    "../shared/models/README.md names for this type)."
)
RUNTIME = "onnxruntime, or openvino (the `openvino` package, which also reads ONNX): measured in docs/BENCHMARKS.md."
PRECISION = (
    "OpenVINO's arithmetic: auto = bfloat16 where the CPU has it (AVX-512 BF16, AMX; about twice as fast there), "
    "float32 elsewhere; f32 = the same boxes on every CPU."
)


# Detectors trained on COCO's 80 classes: they also find the carried objects (backpack, handbag,
# suitcase) an abandoned-object rule watches for. The others know people (and vehicles, bikes) only.
COCO_DETECTORS = frozenset({"yolov3-tiny", "nanodet", "centernet", "yolox-nano", "picodet-s"})


class YoloxConfig(StrictModel):
    type: Literal["yolox-nano", "bytetrack-nano"] = Field(
        "yolox-nano",
        description="yolox-nano: COCO, 416x416 (Apache-2.0). bytetrack-nano: people only, 1088x608, trained by "
        "ByteTrack's authors on non-commercial data (MOT17, CrowdHuman, CityPersons, ETHZ): a site's informed choice.",
    )
    model: str | None = Field(None, description=MODEL_FILE)
    confidence: float = Field(
        0.1, description="Lowest score (objectness x class) kept; the tracker's thresholds decide.", ge=0.0, le=1.0
    )
    nms_iou: float = Field(0.45, description="IoU above which two boxes of a class are one object.", gt=0.0, le=1.0)
    threads: int = Field(1, description="Inference threads (1 = one camera per core).", ge=1, le=64)
    runtime: Literal["onnxruntime", "openvino"] = Field("onnxruntime", description=RUNTIME)
    precision: Literal["auto", "f32"] = Field("auto", description=PRECISION)


class PicoDetConfig(StrictModel):
    type: Literal["picodet-s"] = "picodet-s"
    input_size: Literal[320, 416] = Field(416, description="Square network input: the two files trained.")
    model: str | None = Field(None, description=MODEL_FILE)
    confidence: float = Field(0.1, description="Lowest class score kept.", ge=0.0, le=1.0)
    nms_iou: float = Field(0.5, description="IoU above which two boxes of a class are one object.", gt=0.0, le=1.0)
    threads: int = Field(1, description="Inference threads (1 = one camera per core).", ge=1, le=64)
    runtime: Literal["onnxruntime", "openvino"] = Field("onnxruntime", description=RUNTIME)
    precision: Literal["auto", "f32"] = Field("auto", description=PRECISION)


class OmzDetectorConfig(StrictModel):
    type: Literal["omz-person-0013", "omz-pedestrian-adas-0002", "omz-pvb-2000", "omz-pvb-2002", "omz-pvb-2004"] = (
        Field(
            "omz-pvb-2002",
            description="An Open Model Zoo detector (OpenVINO IR): person-detection-retail-0013, "
            "pedestrian-detection-adas-0002, or person-vehicle-bike-detection-2000/2002/2004 (people, vehicles, bikes).",
        )
    )
    model: str | None = Field(None, description=MODEL_FILE)
    confidence: float = Field(0.1, description="Lowest score kept.", ge=0.0, le=1.0)
    nms_iou: float = Field(0.5, description="IoU above which two boxes of a class are one object.", gt=0.0, le=1.0)
    threads: int = Field(1, description="OpenVINO inference threads (1 = one camera per core).", ge=1, le=64)
    precision: Literal["auto", "f32"] = Field("auto", description=PRECISION)


DetectorConfig = Annotated[
    Union[YoloV3TinyConfig, NanoDetConfig, CenterNetConfig, YoloxConfig, PicoDetConfig, OmzDetectorConfig],
    Field(discriminator="type"),
]


class MotionGateConfig(StrictModel):
    enabled: bool = Field(True, description="Skip detection on frames where nothing moves.")
    min_foreground: float = Field(
        0.0005, description="Fraction of moving pixels below which a frame counts as still.", ge=0.0, le=1.0
    )
    width: int = Field(160, description="Width the frame is shrunk to for background subtraction.", ge=32, le=1920)
    warmup_frames: int = Field(
        25,
        description="Frames during which every frame is analysed while the background model learns the scene: "
        "it sees no motion at first (TUD-Stadtmitte's first 5 frames), and people present from the start would "
        "otherwise be found late.",
        ge=0,
    )


class TilingConfig(StrictModel):
    """Detection on overlapping tiles, for large frames and small figures."""

    enabled: bool = Field(False, description="Run the detector on tiles as well as (or instead of) the whole frame.")
    rows: int = Field(2, description="Tile rows.", ge=1, le=8)
    cols: int = Field(2, description="Tile columns.", ge=1, le=8)
    overlap: float = Field(
        0.2,
        description="Share of a tile that overlaps its neighbour; make it at least the height of a person as a share of a tile.",
        ge=0.0,
        lt=0.9,
    )
    full_frame: bool = Field(True, description="Also detect on the whole frame: tiles alone split large people.")
    merge_ios: float = Field(
        0.6,
        description="Boxes of a class whose intersection covers this share of the smaller one are the same object.",
        gt=0.0,
        le=1.0,
    )


class AnalysisConfig(StrictModel):
    frame_step: int = Field(1, description="Analyse every k-th decoded frame.", ge=1)
    max_width: int | None = Field(
        960,
        description="Frames wider than this are shrunk while decoding (the detectors see 416-608 px anyway; "
        "thumbnails keep 960 px); coordinates are stored in source pixels. None: full resolution.",
        ge=160,
    )
    fast_decode: bool = Field(
        True,
        description="Skip the in-loop deblocking filter of H.264/HEVC when decoding (about a quarter less decoding CPU; frames stay within ~42 dB PSNR).",
    )
    classes: list[
        Literal["person", "bicycle", "car", "motorcycle", "bus", "truck", "backpack", "handbag", "suitcase"]
    ] = Field(
        default_factory=lambda: list(PEOPLE_AND_VEHICLES),
        description="Classes to detect, track and store. A camera with an abandoned-object rule also tracks "
        "that rule's object classes.",
    )
    min_track_seconds: float = Field(0.5, description="Tracks shorter than this are not stored.", ge=0.0)
    motion_gate: MotionGateConfig = Field(default_factory=MotionGateConfig)
    tracker: TrackerConfig = Field(default_factory=TrackerConfig)
    tiling: TilingConfig = Field(default_factory=TilingConfig)
    camera_motion: bool = Field(
        False,
        description="Estimate the camera's own motion between frames (drones, PTZ) and apply it to the tracker's predictions.",
    )
    synopsis: bool = Field(
        True,
        description="Keep each track's tube (its pixels and foreground mask in every analysed "
        "frame) and a background per period, so `vigie synopsis` never decodes the source again.",
    )
    background_period_s: float = Field(
        900.0,
        description="Length of the periods a background (median of object-free "
        "frames) is computed for; day and night get their own.",
        ge=10.0,
        le=86400.0,
    )
    appearance: AppearanceConfig = Field(default_factory=AppearanceConfig)
    colour_balance: Literal["grey-world", "grey-pixels", "shades-of-grey", "grey-edge", "off"] = Field(
        "shades-of-grey",
        description="White balance of the pixels clothing and vehicle colours are named on, learnt per camera and "
        "per background period from its own background (vigie.describe.white_balance): shades-of-grey (better "
        "than raw pixels on both PETS09 and TUD, names kept stable across a camera's periods: docs/BENCHMARKS.md "
        "§23), grey-world (higher figures, but it flips a red-and-navy top between red and blue), grey-pixels, "
        "grey-edge, or off (raw pixels). Thumbnails, search crops and the re-ID networks always see the raw pixels.",
    )
    attributes: AttributesConfig = Field(default_factory=AttributesConfig)
    search_crops: int = Field(
        16,
        description="Crops of each person described for appearance search and `vigie adapt` (0: no appearance vectors).",
        ge=0,
        le=64,
    )


class Calibration(StrictModel):
    """Ground-plane calibration: four image points and where they lie on the ground."""

    image_points: list[tuple[float, float]] = Field(
        description="Four (x, y) pixel positions on the ground.", min_length=4, max_length=4
    )
    ground_points_m: list[tuple[float, float]] = Field(
        description="The same four points on the ground, (x, y) in metres.", min_length=4, max_length=4
    )


class CameraConfig(StrictModel):
    id: str = Field(description="Stable camera identifier.", pattern=r"^[A-Za-z0-9][A-Za-z0-9_.-]{0,63}$")
    name: str = Field(description="What the operators call it.")
    lat: float = Field(description="Latitude, WGS84.", ge=-90, le=90)
    lon: float = Field(description="Longitude, WGS84.", ge=-180, le=180)
    commune: str = Field("", description="Commune the camera stands in.")
    group: str = Field("", description="Camera group (district, sector) for searches.")
    purpose: str = Field("", description="Why the camera is there (shown in the public register).")
    source: str | None = Field(None, description="Recorded file (relative to the site file) or stream URL.")
    substream: str | None = Field(
        None,
        description="The camera's lower-resolution stream (file or URL), analysed instead of the main one when given: "
        "IP cameras send one for analytics; decoding it costs a tenth of 1080p. Needs main_stream_size.",
    )
    main_stream_size: tuple[int, int] | None = Field(
        None,
        description="(width, height) of the main stream: coordinates found on the sub-stream are stored in its pixels.",
    )
    recording_start: datetime | None = Field(None, description="UTC time of the source's first frame (ISO 8601).")
    frame_rate: float | None = Field(None, description="True frame rate, where the container's is wrong.", gt=0)
    calibration: Calibration | None = None
    profile: Literal["fixed", "aerial"] = Field(
        "fixed",
        description="'aerial' (drones, high masts): small figures and a moving camera; "
        "tiles 3x3 plus the full frame and camera-motion compensation, unless the camera's own analysis settings say otherwise.",
    )
    detector: DetectorConfig | None = Field(None, description="Overrides the site's detector for this camera.")
    analysis: AnalysisConfig | None = Field(None, description="Overrides the site's analysis settings for this camera.")
    retention_days: int | None = Field(
        None,
        description="Days this camera's tracks are kept before `vigie purge` deletes them (None: the site's retention_days); "
        "never more than the site's legal_max_retention_days.",
        ge=1,
    )
    stream: str | None = Field(
        None,
        description="Live stream URL (rtsp://, http(s)://) that `vigie run` analyses; a password in it is never logged.",
    )
    rules: list[RuleConfig] = Field(
        default_factory=list,
        description="Rules whose events become alerts (vigie.rules: zone_intrusion, line_crossing, loitering, counter_flow, gathering, density, crowd_movement, abandoned_object, person_on_ground).",
    )
    record: bool = Field(
        False,
        description="Record the live stream (`vigie run`) as segment files of a few seconds under $VIGIE_DATA/recordings, "
        "indexed in the store, kept as long as the camera's tracks (retention, legal holds). The camera's packets are "
        "copied as sent; a camera with privacy masks is re-encoded with the masks burned in instead (masks are never stored).",
    )
    record_quota_gb: float | None = Field(
        None,
        description="Disk space this camera's recording may use, in GB (10^9 bytes): past it, its oldest segments not "
        "under a legal hold are deleted first, and an alert says the quota (not the retention) forced it. None: no quota.",
        gt=0,
    )
    record_segment_s: float = Field(
        6.0,
        description="Length of a recorded segment in seconds: a segment is closed at the first key frame after it.",
        ge=2,
        le=30,
    )
    record_from: Literal["stream", "substream"] = Field(
        "stream",
        description="Which of the camera's streams `record: true` records: 'stream' (the main one) or 'substream' (its "
        "lower-resolution one, e.g. 640x360). A camera with privacy masks is re-encoded with them burned in, and "
        "re-encoding costs about as many pixels as it gets: its sub-stream costs a fraction of its 1080p stream "
        "(docs/BENCHMARKS.md section 32). The masks, in the main stream's pixels, are scaled to the sub-stream.",
    )
    record_masked_width: int | None = Field(
        None,
        description="Width in pixels a masked camera's recording is scaled to before it is re-encoded (re-encoding "
        "costs about as many pixels as it gets: 960 for a 1080p camera costs about a quarter). None: the stream's width.",
        ge=160,
    )
    privacy_masks: list[list[tuple[float, float]]] = Field(
        default_factory=list,
        description="Polygons, in the main stream's pixels, blacked out of every frame before anything is analysed or "
        "stored (windows of homes, private gardens): each a list of at least three [x, y] points.",
    )

    @field_validator("rules", mode="before")
    @classmethod
    def _supported_rules(cls, v):

        for rule in v if isinstance(v, list) else []:
            kind = rule.get("type") if isinstance(rule, dict) else None
            if kind in NOT_SUPPORTED:
                raise ValueError(
                    _("rule type {kind} is not supported: {value}", kind=repr(kind), value=NOT_SUPPORTED[kind])
                )
        return v

    @field_validator("privacy_masks")
    @classmethod
    def _masks(cls, v: list[list[tuple[float, float]]]) -> list[list[tuple[float, float]]]:
        for i, polygon in enumerate(v):
            if len(polygon) < 3:
                raise ValueError(
                    _(
                        "privacy mask {i} has {n_polygon} points: a polygon needs at least 3",
                        i=i,
                        n_polygon=len(polygon),
                    )
                )
            if any(x < 0 or y < 0 for x, y in polygon):
                raise ValueError(
                    _("privacy mask {i} has a negative coordinate: points are pixels of the main stream", i=i)
                )
        return v

    @model_validator(mode="after")
    def _record_needs_stream(self) -> "CameraConfig":
        if self.record and not self.stream:
            raise ValueError("record: true needs a live `stream` URL (`vigie run` records what it reads)")
        return self

    @model_validator(mode="after")
    def _record_from_needs_substream(self) -> "CameraConfig":
        if self.record and self.record_from == "substream" and not self.substream:
            raise ValueError(_("record_from: substream needs the camera's `substream` URL"))
        return self

    @model_validator(mode="after")
    def _substream_needs_main_size(self) -> "CameraConfig":
        if self.substream and not self.main_stream_size:
            raise ValueError(
                _("substream needs main_stream_size (the main stream's width, height) to map coordinates back")
            )
        return self

    @field_validator("recording_start")
    @classmethod
    def _utc(cls, v: datetime | None) -> datetime | None:
        return place(v, None, "", ValueError) if v is not None else None  # pydantic names the field


class MapConfig(StrictModel):
    """Background tiles for the control room's maps. None: cameras on a blank background (works offline)."""

    tile_url: str | None = Field(
        None,
        description="Tile URL template with {z}, {x} and {y}: a path on this server (/tiles/{z}/{x}/{y}.png) or an http(s) tile server the control room can reach.",
        max_length=500,
    )
    attribution: str = Field(
        "", description="Credit shown on the map for the tiles (e.g. '© OpenStreetMap contributors').", max_length=300
    )
    max_zoom: int = Field(19, ge=1, le=22)
    tile_dir: str | None = Field(
        None,
        description="A folder of tiles laid out as {z}/{x}/{y}.png (relative to the site file), served by Vigie at /tiles/: set tile_url to /tiles/{z}/{x}/{y}.png.",
    )

    @field_validator("tile_url")
    @classmethod
    def _template(cls, v: str | None) -> str | None:
        if v is None:
            return v
        if not all(k in v for k in ("{z}", "{x}", "{y}")):
            raise ValueError(_("tile_url needs {{z}}, {{x}} and {{y}} placeholders"))
        if not (v.startswith("/") and not v.startswith("//")) and not v.startswith(("https://", "http://")):
            raise ValueError(_("tile_url must be a path on this server (starting with /) or an http(s) URL"))
        return v


class WebhookConfig(StrictModel):
    url: str = Field(description="Where alerts are POSTed as JSON.", pattern=r"^https?://")
    secret_env: str | None = Field(
        None,
        description="Environment variable holding the HMAC secret that signs each alert (never the secret itself).",
    )


class MqttConfig(StrictModel):
    host: str = Field("127.0.0.1")
    port: int = Field(1883, ge=1, le=65535)
    topic_prefix: str = Field("vigie/alerts", description="Alerts go to <prefix>/<camera id>.")
    username: str | None = None
    password_env: str | None = Field(None, description="Environment variable holding the broker password.")


class AlertsConfig(StrictModel):
    webhooks: list[WebhookConfig] = Field(default_factory=list)
    mqtt: MqttConfig | None = None


class CrimeMapConfig(StrictModel):
    """The security council's crime map (vigie.crimemap): areas and analysis defaults."""

    communes: str | None = Field(
        None,
        description="GeoJSON file of the communes' polygons (relative to the site file), each with its name in `commune_property`; without it, per-commune figures are drawn at the mean position of each commune's incidents.",
    )
    commune_property: str = Field(
        "name", description="The polygon property that holds the commune's name.", max_length=100
    )
    cell_m: float = Field(250.0, description="Side of the hot-spot grid's square cells, in metres.", gt=10, le=10_000)
    permutations: int = Field(
        999, description="Random permutations behind each pseudo p-value (Gi*, Knox).", ge=99, le=9999
    )


class Open311Service(StrictModel):
    """One kind of problem residents may report (GeoReport v2 'service')."""

    code: str = Field(description="service_code: short and stable.", pattern=r"^[A-Za-z0-9_.-]{1,64}$")
    name: str = Field(max_length=200)
    description: str = Field("", max_length=1000)
    group: str = Field("", max_length=200)
    keywords: list[str] = Field(default_factory=list)
    incident_category: str | None = Field(
        None,
        description="Category of the crime map's citizen layer for accepted reports of this service (default: the code).",
        max_length=100,
    )


def _default_services() -> list[Open311Service]:
    # Places and events a resident can see; nothing about a person.
    return [
        Open311Service(code=c, name=n, group=g, description=d)  # English, marked N_: translated when served
        for c, n, g, d in (
            (
                "streetlight",
                N_("Street light out"),
                N_("Public space"),
                N_("A street light that is off, flickering or damaged."),
            ),
            (
                "graffiti",
                N_("Graffiti or tags"),
                N_("Public space"),
                N_("Graffiti, tags or posters on a wall or street furniture."),
            ),
            (
                "dumping",
                N_("Illegal dumping"),
                N_("Cleanliness"),
                N_("Rubbish, bulky items or rubble left in a public place."),
            ),
            (
                "damage",
                N_("Damaged street furniture"),
                N_("Public space"),
                N_("Broken bench, bin, bus shelter, sign or bollard."),
            ),
            (
                "vehicle",
                N_("Abandoned vehicle"),
                N_("Traffic"),
                N_("A vehicle that seems abandoned on the public road."),
            ),
            (
                "nuisance",
                N_("Recurring nuisance at a place"),
                N_("Tranquillity"),
                N_(
                    "Noise, gatherings or incivilities that recur at a place and time (describe the place and the time, never people)."
                ),
            ),
        )
    ]


class Open311Config(StrictModel):
    """Citizen reports through Open311 GeoReport v2 (vigie.citizen)."""

    jurisdiction_id: str = Field(
        "vigie.local", description="The jurisdiction_id this server answers for.", max_length=200
    )
    services: list[Open311Service] = Field(default_factory=_default_services, min_length=1)
    reports_per_hour: int = Field(5, description="Reports one client address may send per hour.", ge=1, le=10_000)
    reports_per_day: int = Field(20, description="Reports one client address may send per day.", ge=1, le=100_000)
    max_description_chars: int = Field(2000, description="Longest description accepted.", ge=100, le=20_000)
    max_photo_bytes: int = Field(8_000_000, description="Largest photo accepted, in bytes.", ge=100_000, le=50_000_000)
    max_photo_pixels: int = Field(
        40_000_000,
        description="Largest photo accepted, in pixels (image bombs are refused before decoding).",
        ge=1_000_000,
        le=200_000_000,
    )

    @model_validator(mode="after")
    def _unique_codes(self) -> "Open311Config":
        codes = [s.code for s in self.services]
        if len(set(codes)) != len(codes):
            raise ValueError(_("open311.services: service codes must be unique, got {codes}", codes=codes))
        return self


class SiteConfig(StrictModel):
    name: str = Field(description="The site (city, network) this file describes.")
    controller: str | None = Field(
        None,
        description="The data controller and how to contact them, shown in the public camera register.",
        max_length=500,
    )
    language: Literal["fr", "en"] = Field(
        "fr",
        description="The language of the control room, the public pages, messages and reports (fr or en); "
        "each user may switch to the other.",
    )
    timezone: str = Field(
        "UTC",
        description="The site's local time zone (IANA name, e.g. Europe/Paris): times written on "
        "pictures and videos (synopsis labels) are in it; stored times are always UTC.",
    )
    map: MapConfig = Field(default_factory=MapConfig, description="Map tiles for the web application.")
    alerts: AlertsConfig = Field(
        default_factory=AlertsConfig, description="Where alerts are sent besides the web application."
    )
    crime_map: CrimeMapConfig = Field(default_factory=CrimeMapConfig, description="The security council's crime map.")
    open311: Open311Config = Field(default_factory=Open311Config, description="Citizen reports (Open311 GeoReport v2).")
    detector: DetectorConfig = Field(
        default_factory=OmzDetectorConfig,
        description="Default detector for every camera: Open Model Zoo's person-vehicle-bike-detection-2002, chosen on "
        "PETS09-S2L1 and TUD-Stadtmitte together (docs/BENCHMARKS.md §22); NanoDet where its file is absent.",
    )
    analysis: AnalysisConfig = Field(default_factory=AnalysisConfig)
    cameras: list[CameraConfig] = Field(min_length=1)
    live_wall_blur: bool = Field(
        False,
        description="Blur faces on the live wall (issue 21). Off by default: an authorised operator may watch live; "
        "privacy masks are burned in either way.",
    )
    retention_days: int = Field(
        30, description="Days tracks are kept before `vigie purge` deletes them, for cameras that set none.", ge=1
    )
    legal_max_retention_days: int = Field(
        30,
        description="The longest retention the law allows this site (in France, one month for public-space video): no camera may exceed it.",
        ge=1,
    )
    hold_max_window_days: float = Field(
        7,
        description="The longest camera time window one legal hold may cover, in days: a longer window, or one "
        "with no end, would switch retention off for that camera, and only a supervisor may place it.",
        gt=0,
        le=366,
    )

    @field_validator("timezone")
    @classmethod
    def _known_timezone(cls, v: str) -> str:
        return known_timezone(v)

    @model_validator(mode="after")
    def _retention_within_legal_max(self) -> "SiteConfig":
        # Checked here, once, so no purge or analysis ever runs on a site that keeps footage unlawfully long.
        cap = self.legal_max_retention_days
        if self.retention_days > cap:
            raise ValueError(
                _(
                    "retention_days {retention_days} is above the legal maximum of {cap} days (legal_max_retention_days)",
                    retention_days=self.retention_days,
                    cap=cap,
                )
            )
        for cam in self.cameras:
            if cam.retention_days is not None and cam.retention_days > cap:
                raise ValueError(
                    _(
                        "camera {id}: retention_days {retention_days} is above the legal maximum of {cap} days (legal_max_retention_days)",
                        id=repr(cam.id),
                        retention_days=cam.retention_days,
                        cap=cap,
                    )
                )
        return self

    def retention_for(self, camera_id: str) -> int:
        """Days a camera's tracks are kept: its own setting, else the site's.

        A camera no longer in the site file (its tracks still in the store) gets
        the site default, so removing a camera never keeps its footage forever."""
        for cam in self.cameras:
            if cam.id == camera_id:
                return cam.retention_days if cam.retention_days is not None else self.retention_days
        return self.retention_days

    @model_validator(mode="after")
    def _unique_ids(self) -> "SiteConfig":
        seen: set[str] = set()
        for cam in self.cameras:
            if cam.id in seen:
                raise ValueError(_("camera id {id} appears twice", id=repr(cam.id)))
            seen.add(cam.id)
        return self

    def camera(self, camera_id: str) -> CameraConfig:
        for cam in self.cameras:
            if cam.id == camera_id:
                return cam
        known = ", ".join(c.id for c in self.cameras)
        raise ConfigError(
            _("camera {camera_id} is not in the site file (known: {known})", camera_id=repr(camera_id), known=known)
        )

    def detector_for(self, camera_id: str) -> DetectorConfig:
        cam = self.camera(camera_id)
        if cam.detector is not None:
            return cam.detector
        wanted = set(self.analysis_for(camera_id).classes)
        if wanted & set(CARRIED_OBJECTS) and self.detector.type not in COCO_DETECTORS:
            # Left luggage needs bags found, which the surveillance-trained default (people,
            # vehicles, bikes) does not know: such a camera gets the best COCO model of
            # docs/BENCHMARKS.md §22 unless the site names one for it.
            return YoloxConfig(confidence=self.detector.confidence)
        return self.detector

    def analysis_for(self, camera_id: str) -> AnalysisConfig:
        cam = self.camera(camera_id)
        analysis = cam.analysis or self.analysis
        if cam.analysis is None and cam.profile == "aerial":
            analysis = analysis.model_copy(
                update={
                    "tiling": TilingConfig(enabled=True, rows=3, cols=3, overlap=0.25, full_frame=True),
                    "camera_motion": True,
                    "max_width": None,  # tiles exist to see small figures at full resolution
                }
            )
        # An abandoned-object rule needs its objects tracked; asking for it is enough.
        objects = [c for r in cam.rules if r.type == "abandoned_object" for c in r.object_classes]
        missing = [c for c in dict.fromkeys(objects) if c not in analysis.classes]
        if missing:
            analysis = analysis.model_copy(update={"classes": [*analysis.classes, *missing]})
        return analysis


def _describe_location(raw: dict, loc: tuple) -> str:
    """('cameras', 1, 'calibration', 'image_points') -> "camera 'b', field calibration.image_points"."""
    if len(loc) >= 2 and loc[0] == "cameras" and isinstance(loc[1], int):
        cams = raw.get("cameras") if isinstance(raw.get("cameras"), list) else []
        entry = cams[loc[1]] if loc[1] < len(cams) else None
        who = f"camera {entry['id']!r}" if isinstance(entry, dict) and entry.get("id") else f"camera #{loc[1] + 1}"
        rest = ".".join(str(p) for p in loc[2:])
        return f"{who}, field {rest}" if rest else who
    return "field " + ".".join(str(p) for p in loc) if loc else "file"


def load_site(path: str | Path) -> SiteConfig:
    """Read and validate a site file, or raise ConfigError naming what is wrong."""
    path = Path(path)
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        raise ConfigError(_("site file {path} does not exist", path=path)) from None
    except (OSError, UnicodeDecodeError) as exc:
        raise ConfigError(_("site file {path} cannot be read: {exc}", path=path, exc=exc)) from None
    try:
        raw = yaml.safe_load(text)
    except yaml.YAMLError as exc:
        raise ConfigError(_("site file {path} is not valid YAML: {exc}", path=path, exc=exc)) from None
    if not isinstance(raw, dict):
        raise ConfigError(_("site file {path} must be a mapping with 'name' and 'cameras'", path=path))
    try:
        site = SiteConfig.model_validate(raw)
    except ValidationError as exc:
        problems = [f"{_describe_location(raw, tuple(e['loc']))}: {e['msg']}" for e in exc.errors()[:5]]
        raise ConfigError(f"site file {path}: " + "; ".join(problems)) from None

    # Relative sources are relative to the site file, so a site folder can move.
    def local(ref: str | None) -> str | None:
        return str((path.parent / ref).resolve()) if ref and "://" not in ref and not Path(ref).is_absolute() else ref

    cams = [c.model_copy(update={"source": local(c.source), "substream": local(c.substream)}) for c in site.cameras]
    return site.model_copy(
        update={
            "cameras": cams,
            "map": site.map.model_copy(update={"tile_dir": local(site.map.tile_dir)}),
            "crime_map": site.crime_map.model_copy(update={"communes": local(site.crime_map.communes)}),
        }
    )


def default_site() -> SiteConfig:
    """A one-camera site used when `vigie analyze` is given no site file."""
    return SiteConfig(name="ad hoc", cameras=[CameraConfig(id="camera-1", name="camera-1", lat=0.0, lon=0.0)])
