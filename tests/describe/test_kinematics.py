import numpy as np
import pytest
from builders import DEMO_CAMERA, DEMO_SITE

from vigie.config import load_site
from vigie.describe.kinematics import COMPASS, GroundPlane, compass, direction_of, foot_points, path_speed, smooth


@pytest.mark.parametrize(
    "dx, dy, expected",
    [
        (0, -10, "N"),  # up the image
        (7, -7, "NE"),
        (10, 0, "E"),
        (7, 7, "SE"),
        (0, 10, "S"),  # down the image
        (-7, 7, "SW"),
        (-10, 0, "W"),
        (-7, -7, "NW"),
        (3, -10, "N"),  # 17 degrees off north: still N
        (5, -10, "NE"),  # 27 degrees: NE
        (-10, -3, "W"),
        (-10, -5, "NW"),
    ],
)
def test_compass(dx, dy, expected):
    assert compass(dx, dy) == expected


def test_compass_covers_eight_points_around_the_circle():
    angles = np.radians(np.arange(0, 360, 45))
    got = [compass(float(np.sin(a)), float(-np.cos(a))) for a in angles]
    assert got == list(COMPASS)


def test_foot_point_is_bottom_centre():
    np.testing.assert_allclose(foot_points(np.array([[10, 20, 30, 120], [0, 0, 4, 2]])), [[20, 120], [2, 2]])


def line(start, step, n):
    return np.asarray(start, float) + np.outer(np.arange(n), np.asarray(step, float))


@pytest.mark.parametrize(
    "step, expected",
    [((5, 0), "E"), ((-5, 0), "W"), ((0, -5), "N"), ((0, 5), "S"), ((4, 4), "SE"), ((-4, -4), "NW")],
)
def test_direction_of_a_straight_walk(step, expected):
    rng = np.random.default_rng(1)
    path = line((300, 300), step, 30) + rng.normal(0, 2, (30, 2))
    assert direction_of(path, min_displacement=50) == expected


def test_direction_of_averages_the_ends_of_the_path():
    path = line((100, 300), (3, 0), 30)
    path[0] += (0, -40)  # a bad first box, high; a bad last box, low:
    path[-1] += (0, 40)  # first-to-last alone would say SE
    assert compass(*(path[-1] - path[0])) == "SE"
    assert direction_of(path, min_displacement=50) == "E"


@pytest.mark.parametrize("n", [1, 2, 30])
def test_direction_of_a_track_that_barely_moves_is_none(n):
    rng = np.random.default_rng(2)
    path = np.array([300.0, 300.0]) + rng.normal(0, 3, (n, 2))
    assert direction_of(path, min_displacement=50) is None


def test_smooth_keeps_a_straight_constant_speed_path_on_its_line():
    path = line((0, 0), (1, 2), 20)
    sm = smooth(path, 7)
    assert sm.shape == path.shape
    np.testing.assert_allclose(sm[:, 1], 2 * sm[:, 0])
    np.testing.assert_allclose(sm[3:-3], path[3:-3])  # the interior is unchanged


@pytest.mark.parametrize("seconds", [2, 3, 5, 10])
@pytest.mark.parametrize("noise_m", [0.0, 0.05])
def test_path_speed_of_a_straight_constant_speed_walk(seconds, noise_m):
    """1.4 m/s for `seconds` at 7 fps, with detector-like noise on each point; the
    smoothing window is about a second of points, as the describer uses. The
    speed must come out within a few % of the truth."""
    fps, speed = 7, 1.4
    n = seconds * fps + 1
    t = np.arange(n) / fps
    rng = np.random.default_rng(3)
    path = np.c_[speed * t, 0.3 * speed * t] / np.hypot(1, 0.3) + rng.normal(0, noise_m, (n, 2))
    got = path_speed(path, t, window=fps)
    assert got == pytest.approx(speed, rel=0.05)


def test_path_speed_smoothing_removes_jitter_that_raw_steps_would_add():
    fps, speed, n = 7, 1.4, 71
    t = np.arange(n) / fps
    rng = np.random.default_rng(4)
    path = np.c_[speed * t, np.zeros(n)] + rng.normal(0, 0.05, (n, 2))
    raw = path_speed(path, t, window=1)
    assert raw > speed * 1.04, "the noise inflates the step-by-step length"
    assert abs(path_speed(path, t, window=fps) - speed) < abs(raw - speed)


@pytest.mark.parametrize(
    "points, seconds",
    [(np.zeros((1, 2)), np.zeros(1)), (np.zeros((3, 2)), np.zeros(3))],
    ids=["one point", "no time"],
)
def test_path_speed_without_time_or_points_is_none(points, seconds):
    assert path_speed(points, seconds, 7) is None


def test_path_speed_of_someone_standing_is_zero():
    t = np.arange(20) / 7
    assert path_speed(np.tile([3.0, 4.0], (20, 1)), t, 7) == pytest.approx(0.0)


# --- ground plane -------------------------------------------------------------------------------
def test_ground_plane_maps_its_own_points_to_their_ground_points():
    image = [(100, 500), (680, 500), (600, 250), (170, 250)]
    ground = [(0, 0), (10, 0), (10, 20), (0, 20)]
    gp = GroundPlane(image, ground)
    np.testing.assert_allclose(gp.to_ground(np.array(image)), ground, atol=1e-4)
    assert gp.to_ground(np.zeros((0, 2))).shape == (0, 2)


def test_demo_calibration_maps_its_own_points():
    cal = load_site(DEMO_SITE).camera(DEMO_CAMERA).calibration
    gp = GroundPlane(cal.image_points, cal.ground_points_m)
    np.testing.assert_allclose(gp.to_ground(np.array(cal.image_points)), cal.ground_points_m, atol=1e-4)


def test_demo_calibration_maps_pets09_feet_to_ground_truth_world_positions(pets09):
    cal = load_site(DEMO_SITE).camera(DEMO_CAMERA).calibration
    gp = GroundPlane(cal.image_points, cal.ground_points_m)
    gt = np.loadtxt(pets09 / "gt.txt", delimiter=",")
    feet = np.c_[gt[:, 2] + gt[:, 4] / 2, gt[:, 3] + gt[:, 5]]
    err = np.linalg.norm(gp.to_ground(feet) - gt[:, 7:9], axis=1)
    assert len(err) == 4650
    assert np.median(err) < 0.2
    assert np.percentile(err, 95) < 0.5
