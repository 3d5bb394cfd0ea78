"""Draws the demo catalog's pictures: one small SVG per leaf category, committed under the catalog app's static
files (dragonrec/catalog/static/dragonrec/demo/products/). The shop serves the committed files; this generator is
not part of the package. Re-running it rewrites them byte-for-byte identically::

    .venv/bin/python scripts/demo_images.py            # rewrite the SVG files
    .venv/bin/python scripts/demo_images.py --check    # exit 1 if they are out of date

Every drawing is a few flat shapes on a 400 x 300 canvas (the storefront's card ratio), in the category's colour
on a pale tint of it: recognisable at card size and a few hundred bytes each. A drawing's file name is the slug of
its leaf category (`dragonrec.catalog.demo.images.image_name` finds it by that).
"""

from __future__ import annotations

import sys
from dataclasses import dataclass
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from dragonrec.catalog.demo.images import OUTPUT


@dataclass(frozen=True)
class Drawing:
    slug: str
    hue: int
    shapes: str


def _keys() -> str:
    """Three rows of keys and a space bar, centred on the keyboard's body (one path: 34 rects would triple the file)."""
    size, gap, count = 18, 6, 11
    left = 60 + (280 - (count * size + (count - 1) * gap)) // 2
    keys = "".join(
        f"M{left + i * (size + gap)} {y}h{size}v{size}h-{size}z" for y in (114, 138, 162) for i in range(count)
    )
    return f'<path d="{keys}M130 187h140v12h-140z" fill="{{L}}"/>'


def _spiral() -> str:
    """A notebook's spiral binding and ruled lines."""
    rings = "".join(
        f'<circle cx="130" cy="{y}" r="9" fill="none" stroke="{{D}}" stroke-width="6"/>' for y in range(76, 240, 26)
    )
    lines = "".join(
        f'<path d="M168 {y}h96" stroke="{{L}}" stroke-width="8" stroke-linecap="round"/>' for y in (100, 130, 160, 190)
    )
    return rings + lines


# Leaf category name -> drawing. {F} is the category's colour, {D} a dark shade of it, {L} a light one.
DRAWINGS: dict[str, Drawing] = {
    "Monitors": Drawing(
        "monitors",
        212,
        '<rect x="90" y="60" width="220" height="140" rx="10" fill="{D}"/>'
        '<rect x="102" y="72" width="196" height="116" rx="4" fill="{F}"/>'
        '<path d="M185 200h30l8 36h-46z" fill="{D}"/><rect x="140" y="232" width="120" height="12" rx="6" fill="{D}"/>',
    ),
    "Keyboards": Drawing(
        "keyboards", 200, '<rect x="60" y="100" width="280" height="112" rx="14" fill="{D}"/>' + _keys()
    ),
    "Mice": Drawing(
        "mice",
        190,
        '<path d="M200 60c-44 0-70 34-70 80v40c0 46 28 76 70 76s70-30 70-76v-40c0-46-26-80-70-80z" fill="{F}"'
        ' stroke="{D}" stroke-width="8"/><path d="M200 62v72M132 134h136" stroke="{D}" stroke-width="6"/>'
        '<rect x="192" y="86" width="16" height="30" rx="8" fill="{D}"/>',
    ),
    "Cables & Adapters": Drawing(
        "cables-adapters",
        180,
        '<path d="M110 140C190 40 210 260 290 160" fill="none" stroke="{D}" stroke-width="12" stroke-linecap="round"/>'
        '<rect x="60" y="118" width="56" height="44" rx="8" fill="{F}" stroke="{D}" stroke-width="6"/>'
        '<rect x="36" y="128" width="26" height="24" rx="3" fill="{D}"/>'
        '<rect x="284" y="138" width="56" height="44" rx="8" fill="{F}" stroke="{D}" stroke-width="6"/>'
        '<rect x="338" y="148" width="26" height="24" rx="3" fill="{D}"/>',
    ),
    "Monitor Arms & Stands": Drawing(
        "monitor-arms-stands",
        222,
        '<rect x="60" y="236" width="280" height="10" rx="5" fill="{D}"/>'
        '<rect x="92" y="200" width="28" height="40" rx="4" fill="{D}"/>'
        '<path d="M106 204L150 124L240 140" fill="none" stroke="{F}" stroke-width="16" stroke-linecap="round"'
        ' stroke-linejoin="round"/><circle cx="150" cy="124" r="12" fill="{D}"/>'
        '<rect x="230" y="80" width="110" height="76" rx="6" fill="{D}"/>'
        '<rect x="240" y="90" width="90" height="56" rx="3" fill="{F}"/>',
    ),
    "Laptops": Drawing(
        "laptops",
        230,
        '<path d="M110 70h180a10 10 0 0 1 10 10v110H100V80a10 10 0 0 1 10-10z" fill="{D}"/>'
        '<rect x="114" y="84" width="172" height="96" rx="3" fill="{F}"/><path d="M60 200h280l-16 26H76z" fill="{D}"/>'
        '<rect x="176" y="204" width="48" height="6" rx="3" fill="{L}"/>',
    ),
    "Laptop Bags & Sleeves": Drawing(
        "laptop-bags-sleeves",
        240,
        '<path d="M160 110v-22a14 14 0 0 1 14-14h52a14 14 0 0 1 14 14v22" fill="none" stroke="{D}" stroke-width="12"/>'
        '<rect x="80" y="104" width="240" height="140" rx="18" fill="{F}" stroke="{D}" stroke-width="8"/>'
        '<path d="M80 150h240" stroke="{D}" stroke-width="6"/><rect x="186" y="140" width="28" height="22" rx="4"'
        ' fill="{D}"/>',
    ),
    "Headphones": Drawing(
        "headphones",
        250,
        '<path d="M110 190v-40a90 90 0 0 1 180 0v40" fill="none" stroke="{D}" stroke-width="16"'
        ' stroke-linecap="round"/>'
        '<rect x="88" y="160" width="50" height="80" rx="18" fill="{F}" stroke="{D}" stroke-width="8"/>'
        '<rect x="262" y="160" width="50" height="80" rx="18" fill="{F}" stroke="{D}" stroke-width="8"/>',
    ),
    "Webcams": Drawing(
        "webcams",
        196,
        '<circle cx="200" cy="125" r="70" fill="{F}" stroke="{D}" stroke-width="8"/>'
        '<circle cx="200" cy="125" r="34" fill="{D}"/><circle cx="188" cy="113" r="10" fill="{L}"/>'
        '<circle cx="250" cy="82" r="6" fill="{D}"/><path d="M200 195v30" stroke="{D}" stroke-width="12"/>'
        '<rect x="150" y="224" width="100" height="14" rx="7" fill="{D}"/>',
    ),
    "USB Hubs & Docks": Drawing(
        "usb-hubs-docks",
        186,
        '<path d="M80 150C50 150 60 220 24 220" fill="none" stroke="{D}" stroke-width="12" stroke-linecap="round"/>'
        '<rect x="80" y="110" width="240" height="80" rx="16" fill="{F}" stroke="{D}" stroke-width="8"/>'
        + "".join(f'<rect x="{x}" y="141" width="36" height="18" rx="3" fill="{{D}}"/>' for x in (112, 160, 208, 256)),
    ),
    "Phone Cases": Drawing(
        "phone-cases",
        280,
        '<rect x="140" y="50" width="120" height="210" rx="24" fill="{F}" stroke="{D}" stroke-width="8"/>'
        '<rect x="158" y="68" width="44" height="60" rx="12" fill="{D}"/><circle cx="172" cy="84" r="8" fill="{L}"/>'
        '<circle cx="188" cy="110" r="8" fill="{L}"/>',
    ),
    "Phone Chargers": Drawing(
        "phone-chargers",
        290,
        '<path d="M175 210c0 40 60 40 100 20s60-10 70 10" fill="none" stroke="{D}" stroke-width="10"'
        ' stroke-linecap="round"/><path d="M150 90V60M200 90V60" stroke="{D}" stroke-width="12"'
        ' stroke-linecap="round"/>'
        '<rect x="120" y="90" width="110" height="120" rx="16" fill="{F}" stroke="{D}" stroke-width="8"/>'
        '<path d="M182 118l-22 36h30l-22 36" fill="none" stroke="{L}" stroke-width="8" stroke-linejoin="round"'
        ' stroke-linecap="round"/>',
    ),
    "SSDs & Flash Drives": Drawing(
        "ssds-flash-drives",
        170,
        '<rect x="270" y="127" width="60" height="46" rx="4" fill="{L}" stroke="{D}" stroke-width="8"/>'
        '<rect x="290" y="140" width="12" height="10" fill="{D}"/><rect x="308" y="140" width="12" height="10"'
        ' fill="{D}"/><rect x="90" y="115" width="184" height="70" rx="14" fill="{F}" stroke="{D}" stroke-width="8"/>'
        '<circle cx="122" cy="150" r="10" fill="{D}"/>',
    ),
    "Coffee Beans": Drawing(
        "coffee-beans",
        24,
        '<path d="M130 80h140l14 170H116z" fill="{F}" stroke="{D}" stroke-width="8" stroke-linejoin="round"/>'
        '<path d="M130 80l10-20h120l10 20z" fill="{D}"/><ellipse cx="200" cy="165" rx="34" ry="46" fill="{D}"/>'
        '<path d="M200 122c-14 28 14 58 0 86" fill="none" stroke="{F}" stroke-width="6" stroke-linecap="round"/>',
    ),
    "Coffee Makers": Drawing(
        "coffee-makers",
        14,
        '<rect x="110" y="50" width="180" height="40" rx="8" fill="{D}"/><rect x="110" y="90" width="40" height="150"'
        ' fill="{D}"/><rect x="110" y="236" width="180" height="16" rx="6" fill="{D}"/>'
        '<path d="M262 150h14a10 10 0 0 1 10 10v30a10 10 0 0 1-10 10h-18" fill="none" stroke="{D}" stroke-width="8"/>'
        '<path d="M175 130h90l-10 100h-70z" fill="{F}" stroke="{D}" stroke-width="6" stroke-linejoin="round"/>',
    ),
    "Mugs": Drawing(
        "mugs",
        34,
        '<path d="M160 90c-10-14 10-24 0-40M200 90c-10-14 10-24 0-40M240 90c-10-14 10-24 0-40" fill="none"'
        ' stroke="{D}" stroke-width="6" stroke-linecap="round"/>'
        '<path d="M258 130h22a30 30 0 0 1 0 60h-22" fill="none" stroke="{D}" stroke-width="12"/>'
        '<path d="M120 110h140v90a40 40 0 0 1-40 40h-60a40 40 0 0 1-40-40z" fill="{F}" stroke="{D}" stroke-width="8"/>',
    ),
    "Cookware": Drawing(
        "cookware",
        4,
        '<path d="M266 150h90" stroke="{D}" stroke-width="20" stroke-linecap="round"/>'
        '<ellipse cx="170" cy="160" rx="100" ry="60" fill="{D}"/>'
        '<ellipse cx="170" cy="152" rx="86" ry="48" fill="{F}"/>',
    ),
    "Desk Lamps": Drawing(
        "desk-lamps",
        45,
        '<rect x="110" y="236" width="120" height="14" rx="7" fill="{D}"/>'
        '<path d="M170 236L130 160L210 96" fill="none" stroke="{D}" stroke-width="12" stroke-linecap="round"'
        ' stroke-linejoin="round"/><circle cx="130" cy="160" r="10" fill="{D}"/>'
        '<path d="M196 72l74-6 34 64-56 22z" fill="{F}" stroke="{D}" stroke-width="6" stroke-linejoin="round"/>',
    ),
    "Desk Chairs": Drawing(
        "desk-chairs",
        265,
        '<path d="M200 180v40M140 240l60-20 60 20M200 220v26" fill="none" stroke="{D}" stroke-width="10"'
        ' stroke-linecap="round" stroke-linejoin="round"/><circle cx="140" cy="246" r="8" fill="{D}"/>'
        '<circle cx="260" cy="246" r="8" fill="{D}"/><circle cx="200" cy="252" r="8" fill="{D}"/>'
        '<rect x="150" y="50" width="100" height="100" rx="20" fill="{F}" stroke="{D}" stroke-width="8"/>'
        '<rect x="130" y="150" width="140" height="30" rx="12" fill="{F}" stroke="{D}" stroke-width="8"/>',
    ),
    "Desks": Drawing(
        "desks",
        275,
        '<path d="M84 130v110M316 130v110" stroke="{D}" stroke-width="14" stroke-linecap="round"/>'
        '<rect x="230" y="130" width="76" height="70" rx="4" fill="{F}" stroke="{D}" stroke-width="6"/>'
        '<path d="M256 166h24" stroke="{D}" stroke-width="6" stroke-linecap="round"/>'
        '<rect x="60" y="110" width="280" height="20" rx="6" fill="{F}" stroke="{D}" stroke-width="6"/>',
    ),
    "Notebooks & Paper": Drawing(
        "notebooks-paper",
        300,
        '<rect x="130" y="50" width="160" height="210" rx="10" fill="{F}" stroke="{D}" stroke-width="8"/>' + _spiral(),
    ),
    "Fitness Trackers": Drawing(
        "fitness-trackers",
        150,
        '<rect x="170" y="40" width="60" height="230" rx="26" fill="{F}"/>'
        '<rect x="150" y="100" width="100" height="110" rx="24" fill="{D}"/>'
        '<rect x="164" y="114" width="72" height="82" rx="14" fill="{L}"/>'
        '<path d="M172 156h14l8-18 12 34 8-16h14" fill="none" stroke="{D}" stroke-width="6" stroke-linejoin="round"'
        ' stroke-linecap="round"/>',
    ),
    "Yoga Mats": Drawing(
        "yoga-mats",
        160,
        '<rect x="110" y="110" width="200" height="90" rx="10" fill="{F}" stroke="{D}" stroke-width="8"/>'
        '<path d="M190 110v90M250 110v90" stroke="{D}" stroke-width="6"/>'
        '<circle cx="110" cy="155" r="45" fill="{F}" stroke="{D}" stroke-width="8"/>'
        '<path d="M102 155a8 8 0 1 1 16 0a20 20 0 1 1-40 0a32 32 0 1 1 64 0" fill="none" stroke="{D}"'
        ' stroke-width="6"/>',
    ),
    "Water Bottles": Drawing(
        "water-bottles",
        135,
        '<rect x="176" y="40" width="48" height="30" rx="6" fill="{D}"/>'
        '<path d="M170 70h60v20c20 10 30 26 30 50v100a20 20 0 0 1-20 20h-80a20 20 0 0 1-20-20V140c0-24 10-40 30-50z"'
        ' fill="{F}" stroke="{D}" stroke-width="8" stroke-linejoin="round"/>'
        '<path d="M140 160h120M140 200h120" stroke="{D}" stroke-width="6"/>',
    ),
    "Running Apparel": Drawing(
        "running-apparel",
        120,
        '<path d="M160 60l-70 30-30 60 44 20 16-30v120h160V140l16 30 44-20-30-60-70-30c-8 20-24 30-40 30s-32-10-40-30z"'
        ' fill="{F}" stroke="{D}" stroke-width="8" stroke-linejoin="round"/>',
    ),
    "Running Shoes": Drawing(
        "running-shoes",
        100,
        '<path d="M70 200c0-30 10-60 20-90l50 10c20 30 50 50 100 60l60 14c20 6 30 20 30 40v10H80c-6 0-10-4-10-10z"'
        ' fill="{F}" stroke="{D}" stroke-width="8" stroke-linejoin="round"/>'
        '<path d="M70 220h260" stroke="{D}" stroke-width="14" stroke-linecap="round"/>'
        '<path d="M150 140l20-10M170 156l20-10M190 170l20-10" stroke="{L}" stroke-width="6" stroke-linecap="round"/>',
    ),
}


def svg(drawing: Drawing) -> str:
    """The drawing as a standalone SVG file: a pale tint of the colour behind the shapes."""
    h = drawing.hue
    colours = {"F": f"hsl({h},60%,52%)", "D": f"hsl({h},55%,28%)", "L": f"hsl({h},70%,88%)"}
    shapes = drawing.shapes
    for key, value in colours.items():
        shapes = shapes.replace("{" + key + "}", value)
    return (
        '<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 400 300" width="400" height="300">'
        f'<rect width="400" height="300" fill="hsl({h},60%,95%)"/>{shapes}</svg>\n'
    )


def render_all() -> dict[str, str]:
    """File name -> SVG text, for every drawing."""
    return {f"{d.slug}.svg": svg(d) for d in DRAWINGS.values()}


def main(argv: list[str]) -> int:
    files = render_all()
    if "--check" in argv:
        stale = [
            name for name, text in files.items() if not (OUTPUT / name).is_file() or (OUTPUT / name).read_text() != text
        ]
        extra = sorted(p.name for p in OUTPUT.glob("*.svg") if p.name not in files) if OUTPUT.is_dir() else []
        for name in stale + extra:
            print(f"out of date: {OUTPUT / name}", file=sys.stderr)
        return 1 if stale or extra else 0
    OUTPUT.mkdir(parents=True, exist_ok=True)
    for name, text in files.items():
        (OUTPUT / name).write_text(text)
    print(f"wrote {len(files)} pictures to {OUTPUT}")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
