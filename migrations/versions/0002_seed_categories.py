"""seed categories: the tree of what frontline groups ask for

Revision ID: 0002
Revises: 0001
Create Date: 2026-11-27 10:00:00

A data migration. The tree is written out here, not imported from the application, so that
this revision means the same thing whatever the code looks like later. Rows are inserted
level by level (parents first, so children can refer to their parents' generated ids) and
only for slugs not present yet, so running it over a database that already holds some of
these categories adds the missing ones and duplicates nothing. Downgrade deletes exactly the
rows with these slugs, children first; it fails, rightly, while needs or offers use them.

Units: a parent's unit is the one most of its children use; a child may differ (fuel in
litres under energy, counted in pieces), and matching pairs only the same unit.
"""

import sqlalchemy as sa
from alembic import op

# revision identifiers, used by Alembic.
revision = "0002"
down_revision = "0001"
branch_labels = None
depends_on = None


# (slug, unit, Ukrainian, English, German, children)
TREE = [
    ("tactical-medicine", "pcs", "Тактична медицина", "Tactical medicine", "Taktische Medizin", [
        ("tourniquets", "pcs", "Турнікети", "Tourniquets", "Tourniquets"),
        ("hemostatic-gauze", "pcs", "Гемостатичні бинти", "Hemostatic gauze", "Hämostyptische Gaze"),
        ("ifaks", "pcs", "Індивідуальні аптечки (IFAK)", "Individual first aid kits (IFAK)", "Individuelle Erste-Hilfe-Sets (IFAK)"),
        ("chest-seals", "pcs", "Оклюзійні пластирі", "Chest seals", "Thoraxverschlusspflaster (Chest Seals)"),
        ("israeli-bandages", "pcs", "Ізраїльські бандажі", "Emergency (Israeli) bandages", "Notfallverbände (Israeli Bandage)"),
        ("stretchers", "pcs", "Ноші", "Stretchers", "Krankentragen"),
        ("nasopharyngeal-airways", "pcs", "Назофарингеальні повітроводи", "Nasopharyngeal airways", "Nasopharyngealtuben (Wendl-Tuben)"),
        ("trauma-shears", "pcs", "Ножиці парамедика", "Trauma shears", "Rettungsscheren"),
        ("rescue-blankets", "pcs", "Термоковдри", "Rescue blankets", "Rettungsdecken"),
    ]),
    ("medical", "pcs", "Медичне забезпечення", "Medical supplies", "Medizinischer Bedarf", [
        ("medicines", "pcs", "Ліки", "Medicines", "Medikamente"),
        ("dressings", "pcs", "Перевʼязувальні матеріали", "Dressings and bandages", "Verbandmaterial"),
        ("first-aid-kits", "pcs", "Аптечки першої допомоги", "First aid kits", "Erste-Hilfe-Kästen"),
        ("antiseptics", "pcs", "Антисептики", "Antiseptics", "Antiseptika"),
        ("medical-gloves", "pcs", "Медичні рукавички", "Medical gloves", "Medizinische Handschuhe"),
        ("syringes-iv-sets", "pcs", "Шприци та системи для інфузій", "Syringes and IV sets", "Spritzen und Infusionsbestecke"),
        ("medical-equipment", "pcs", "Медичне обладнання", "Medical equipment", "Medizinische Geräte"),
        ("mobility-aids", "pcs", "Засоби реабілітації (милиці, візки)", "Mobility aids (crutches, wheelchairs)", "Mobilitätshilfen (Krücken, Rollstühle)"),
    ]),
    ("energy", "pcs", "Енергозабезпечення", "Energy", "Energieversorgung", [
        ("generators", "pcs", "Генератори", "Generators", "Stromgeneratoren"),
        ("power-stations", "pcs", "Зарядні станції (типу EcoFlow)", "Portable power stations (EcoFlow type)", "Tragbare Powerstations (Typ EcoFlow)"),
        ("power-banks", "pcs", "Павербанки", "Power banks", "Powerbanks"),
        ("solar-panels", "pcs", "Сонячні панелі", "Solar panels", "Solarmodule"),
        ("batteries", "pcs", "Батарейки та акумулятори", "Batteries", "Batterien und Akkus"),
        ("fuel", "l", "Пальне", "Fuel", "Kraftstoff"),
    ]),
    ("water", "l", "Вода", "Water", "Wasser", [
        ("drinking-water", "l", "Питна вода", "Drinking water", "Trinkwasser"),
        ("technical-water", "l", "Технічна вода", "Non-potable water", "Brauchwasser"),
        ("water-filters", "pcs", "Фільтри для води", "Water filters", "Wasserfilter"),
    ]),
    ("food", "kg", "Продукти харчування", "Food", "Lebensmittel", [
        ("canned-food", "kg", "Консерви", "Canned food", "Konserven"),
        ("grains-pasta", "kg", "Крупи та макарони", "Grains and pasta", "Getreide und Nudeln"),
        ("baby-food", "kg", "Дитяче харчування", "Baby food", "Babynahrung"),
        ("dry-rations", "pcs", "Сухі пайки", "Field rations (MRE)", "Feldrationen (EPa)"),
        ("food-parcels", "pcs", "Продуктові набори", "Food parcels", "Lebensmittelpakete"),
    ]),
    ("hygiene", "pcs", "Гігієна", "Hygiene", "Hygiene", [
        ("hygiene-kits", "pcs", "Гігієнічні набори", "Hygiene kits", "Hygienesets"),
        ("nappies", "pcs", "Підгузки (дитячі та для дорослих)", "Nappies (baby and adult)", "Windeln (für Kinder und Erwachsene)"),
        ("feminine-hygiene", "pcs", "Засоби жіночої гігієни", "Feminine hygiene products", "Damenhygieneartikel"),
        ("wet-wipes", "pcs", "Вологі серветки", "Wet wipes", "Feuchttücher"),
        ("soap-detergents", "pcs", "Мило та миючі засоби", "Soap and detergents", "Seife und Reinigungsmittel"),
    ]),
    ("shelter", "pcs", "Житло та підготовка до зими", "Shelter and winterisation", "Unterkunft und Winterhilfe", [
        ("sleeping-bags", "pcs", "Спальні мішки", "Sleeping bags", "Schlafsäcke"),
        ("stoves", "pcs", "Печі-буржуйки", "Wood-burning stoves", "Holzöfen"),
        ("heaters", "pcs", "Обігрівачі", "Heaters", "Heizgeräte"),
        ("tents", "pcs", "Намети", "Tents", "Zelte"),
        ("blankets", "pcs", "Ковдри", "Blankets", "Decken"),
        ("window-repair", "pcs", "Матеріали для закриття вікон (плівка, ОСП)", "Window repair materials (plastic sheeting, OSB)", "Material für Notverglasung (Folie, OSB-Platten)"),
        ("firewood", "kg", "Дрова та паливні брикети", "Firewood and briquettes", "Brennholz und Briketts"),
    ]),
    ("clothing", "pcs", "Одяг та взуття", "Clothing and footwear", "Kleidung und Schuhe", [
        ("boots", "pcs", "Черевики та берці", "Boots", "Stiefel"),
        ("thermal-underwear", "pcs", "Термобілизна", "Thermal underwear", "Thermounterwäsche"),
        ("winter-clothing", "pcs", "Зимовий одяг", "Winter clothing", "Winterkleidung"),
        ("warm-socks", "pcs", "Теплі шкарпетки", "Warm socks", "Warme Socken"),
        ("gloves", "pcs", "Рукавички", "Gloves", "Handschuhe"),
        ("childrens-clothing", "pcs", "Дитячий одяг", "Children's clothing", "Kinderkleidung"),
    ]),
    ("communications", "pcs", "Звʼязок", "Communications", "Kommunikation", [
        ("radios", "pcs", "Радіостанції", "Two-way radios", "Funkgeräte"),
        ("starlink", "pcs", "Термінали Starlink", "Starlink terminals", "Starlink-Terminals"),
        ("phones", "pcs", "Мобільні телефони", "Mobile phones", "Mobiltelefone"),
        ("tablets", "pcs", "Планшети", "Tablets", "Tablets"),
        ("routers", "pcs", "Роутери та модеми", "Routers and modems", "Router und Modems"),
    ]),
    ("vehicles", "pcs", "Транспорт", "Vehicles and transport", "Fahrzeuge und Transport", [
        ("pickups", "pcs", "Пікапи", "Pickup trucks", "Pick-ups"),
        ("evacuation-vehicles", "pcs", "Евакуаційні автомобілі", "Evacuation vehicles", "Evakuierungsfahrzeuge"),
        ("ambulances", "pcs", "Автомобілі швидкої допомоги", "Ambulances", "Krankenwagen"),
        ("vans", "pcs", "Мікроавтобуси", "Vans", "Kleintransporter"),
        ("tyres", "pcs", "Шини", "Tyres", "Reifen"),
        ("spare-parts", "pcs", "Запчастини", "Spare parts", "Ersatzteile"),
    ]),
    ("tools", "pcs", "Інструменти", "Tools", "Werkzeuge", [
        ("chainsaws", "pcs", "Бензопили", "Chainsaws", "Kettensägen"),
        ("shovels", "pcs", "Лопати", "Shovels", "Schaufeln"),
        ("power-tools", "pcs", "Електроінструменти", "Power tools", "Elektrowerkzeuge"),
        ("hand-tools", "pcs", "Ручний інструмент", "Hand tools", "Handwerkzeuge"),
        ("torches", "pcs", "Ліхтарі та налобні ліхтарики", "Torches and headlamps", "Taschen- und Stirnlampen"),
    ]),
    ("evacuation", "pcs", "Евакуація", "Evacuation", "Evakuierung", [
        ("evacuation-trips", "pcs", "Евакуаційні поїздки", "Evacuation trips", "Evakuierungsfahrten"),
        ("limited-mobility-evacuation", "pcs", "Евакуація маломобільних людей", "Evacuation of people with limited mobility", "Evakuierung von Menschen mit eingeschränkter Mobilität"),
        ("animal-evacuation", "pcs", "Евакуація тварин", "Evacuation of animals", "Evakuierung von Tieren"),
        ("temporary-housing", "pcs", "Тимчасове житло для евакуйованих", "Temporary housing for evacuees", "Notunterkünfte für Evakuierte"),
    ]),
    ("funds", "EUR", "Кошти", "Funds", "Geldmittel", []),
]

categories = sa.table(
    "categories",
    sa.column("id", sa.Integer),
    sa.column("slug", sa.String),
    sa.column("parent_id", sa.Integer),
    sa.column("name_uk", sa.String),
    sa.column("name_en", sa.String),
    sa.column("name_de", sa.String),
    sa.column("unit", sa.String),
    sa.column("position", sa.Integer),
)


def _levels():
    """The tree as rows per depth: [[roots], [children]], each row with its parent's slug."""
    roots, children = [], []
    for position, (slug, unit, uk, en, de, kids) in enumerate(TREE, start=1):
        roots.append(dict(slug=slug, parent=None, unit=unit, name_uk=uk, name_en=en,
                          name_de=de, position=position * 10))
        for kid_position, (kid, kid_unit, kid_uk, kid_en, kid_de) in enumerate(kids, start=1):
            children.append(dict(slug=kid, parent=slug, unit=kid_unit, name_uk=kid_uk,
                                 name_en=kid_en, name_de=kid_de, position=kid_position * 10))
    return [roots, children]


def upgrade():
    bind = op.get_bind()
    for level in _levels():
        ids = dict(bind.execute(sa.select(categories.c.slug, categories.c.id)).all())
        rows = [
            {
                "slug": row["slug"],
                "parent_id": ids[row["parent"]] if row["parent"] else None,
                "name_uk": row["name_uk"],
                "name_en": row["name_en"],
                "name_de": row["name_de"],
                "unit": row["unit"],
                "position": row["position"],
            }
            for row in level
            if row["slug"] not in ids
        ]
        if rows:
            op.bulk_insert(categories, rows)


def downgrade():
    for level in reversed(_levels()):
        slugs = [row["slug"] for row in level]
        op.execute(categories.delete().where(categories.c.slug.in_(slugs)))
