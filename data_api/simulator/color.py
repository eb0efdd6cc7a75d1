"""Colour conversions for simulated lights: enough to keep hs/rgb/xy/kelvin attributes coherent."""

from __future__ import annotations

import colorsys
import math

RGB = tuple[int, int, int]

# CSS colour names people say to an assistant; HA accepts the full CSS list and falls back
# to white for an unknown name, which the simulator does too.
NAMED_COLORS: dict[str, RGB] = {
    "white": (255, 255, 255),
    "warmwhite": (255, 223, 179),
    "red": (255, 0, 0),
    "green": (0, 128, 0),
    "lime": (0, 255, 0),
    "blue": (0, 0, 255),
    "lightblue": (173, 216, 230),
    "skyblue": (135, 206, 235),
    "navy": (0, 0, 128),
    "cyan": (0, 255, 255),
    "turquoise": (64, 224, 208),
    "teal": (0, 128, 128),
    "yellow": (255, 255, 0),
    "gold": (255, 215, 0),
    "orange": (255, 165, 0),
    "coral": (255, 127, 80),
    "salmon": (250, 128, 114),
    "pink": (255, 192, 203),
    "hotpink": (255, 105, 180),
    "magenta": (255, 0, 255),
    "purple": (128, 0, 128),
    "violet": (238, 130, 238),
    "lavender": (230, 230, 250),
    "indigo": (75, 0, 130),
    "brown": (165, 42, 42),
    "beige": (245, 245, 220),
    "ivory": (255, 255, 240),
    "homeassistant": (24, 188, 242),
}


def name_to_rgb(name: str) -> RGB:
    return NAMED_COLORS.get(name.replace(" ", "").lower(), (255, 255, 255))


def hs_to_rgb(hue: float, saturation: float) -> RGB:
    red, green, blue = colorsys.hsv_to_rgb(hue / 360, saturation / 100, 1.0)
    return round(red * 255), round(green * 255), round(blue * 255)


def rgb_to_hs(red: int, green: int, blue: int) -> tuple[float, float]:
    hue, saturation, _ = colorsys.rgb_to_hsv(red / 255, green / 255, blue / 255)
    return round(hue * 360, 3), round(saturation * 100, 3)


def rgb_to_xy(red: int, green: int, blue: int) -> tuple[float, float]:
    """sRGB to CIE 1931 xy (gamma-expanded, wide gamut D65 matrix, as Hue documents)."""

    def linear(channel: int) -> float:
        value = channel / 255
        return ((value + 0.055) / 1.055) ** 2.4 if value > 0.04045 else value / 12.92

    r, g, b = linear(red), linear(green), linear(blue)
    x = r * 0.664511 + g * 0.154324 + b * 0.162028
    y = r * 0.283881 + g * 0.668433 + b * 0.047685
    z = r * 0.000088 + g * 0.072310 + b * 0.986039
    total = x + y + z
    if total == 0:
        return 0.0, 0.0
    return round(x / total, 3), round(y / total, 3)


def kelvin_to_rgb(kelvin: int) -> RGB:
    """Black-body colour, after Tanner Helland's well-known curve fit."""
    temp = max(1000, min(40000, kelvin)) / 100
    if temp <= 66:
        red = 255.0
        green = 99.4708025861 * math.log(temp) - 161.1195681661
        blue = 0.0 if temp <= 19 else 138.5177312231 * math.log(temp - 10) - 305.0447927307
    else:
        red = 329.698727446 * (temp - 60) ** -0.1332047592
        green = 288.1221695283 * (temp - 60) ** -0.0755148492
        blue = 255.0

    def clip(value: float) -> int:
        return round(max(0.0, min(255.0, value)))

    return clip(red), clip(green), clip(blue)


def kelvin_to_mired(kelvin: int) -> int:
    return math.floor(1_000_000 / kelvin)


def xy_to_rgb(x: float, y: float) -> RGB:
    """CIE xy at full brightness back to sRGB (inverse of `rgb_to_xy`, approximately)."""
    if y == 0:
        return 255, 255, 255
    big_x, big_z = x / y, (1 - x - y) / y
    r = big_x * 1.656492 - 0.354851 - big_z * 0.255038
    g = -big_x * 0.707196 + 1.655397 + big_z * 0.036152
    b = big_x * 0.051713 - 0.121364 + big_z * 1.011530
    top = max(r, g, b, 1e-9)

    def gamma(channel: float) -> int:
        value = max(0.0, channel / top)
        value = 12.92 * value if value <= 0.0031308 else 1.055 * value ** (1 / 2.4) - 0.055
        return round(max(0.0, min(1.0, value)) * 255)

    return gamma(r), gamma(g), gamma(b)
