"""The fixed material of `flask seed-demo`: organizations, places, and what they ask for and give.

Names, towns and quantities are invented but plausible; no organization here is a real one.
The towns are real settlements of the oblasts along the front (as of the gazetteer's data),
looked up in the gazetteer by their Latin name (Ukrainian name as a fallback) and oblast.
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class OrgSpec:
    """One demo organization: its login handle, home town and what it mostly deals in."""

    name: str
    handle: str  # local part of its member's e-mail address
    kind: str  # an OrgKind value
    town: str
    town_uk: str
    oblast: str | None  # English oblast name as the gazetteer spells it; None abroad
    country: str
    focus: tuple[str, ...]  # top-level category slugs it mostly posts in
    verified: bool = True


@dataclass(frozen=True)
class Item:
    """How a leaf category is asked for and offered: quantity ranges (lo, hi, step) and titles."""

    need_qty: tuple[int, int, int]
    offer_qty: tuple[int, int, int]
    needs: tuple[str, ...]
    offers: tuple[str, ...]
    detail: str = ""


F, D, S, H = "frontline_group", "donor_collective", "supply_collective", "hub"

# The tables below stay one record a line, easier to read and edit than formatted out.
# fmt: off

FRONTLINE_GROUPS = [
    # Kharkiv Oblast
    OrgSpec("Kupiansk Volunteer Medics", "kupiansk-medics", F, "Kupiansk", "Купʼянськ", "Kharkiv", "UA", ("tactical-medicine", "medical", "evacuation")),
    OrgSpec("Izium Recovery Group", "izium-recovery", F, "Izium", "Ізюм", "Kharkiv", "UA", ("shelter", "tools", "energy")),
    OrgSpec("Balakliia Mutual Aid", "balakliia-aid", F, "Balakliia", "Балаклія", "Kharkiv", "UA", ("food", "hygiene", "water")),
    OrgSpec("Chuhuiv Evacuation Team", "chuhuiv-evacuation", F, "Chuhuiv", "Чугуїв", "Kharkiv", "UA", ("evacuation", "vehicles", "energy")),
    OrgSpec("Zolochiv Community Kitchen", "zolochiv-kitchen", F, "Zolochiv", "Золочів", "Kharkiv", "UA", ("food", "water", "energy")),
    OrgSpec("Bohodukhiv Civil Volunteers", "bohodukhiv-volunteers", F, "Bohodukhiv", "Богодухів", "Kharkiv", "UA", ("shelter", "clothing", "hygiene")),
    # Donetsk Oblast
    OrgSpec("Kramatorsk Civil Defence Volunteers", "kramatorsk-civil-defence", F, "Kramatorsk", "Краматорськ", "Donetsk", "UA", ("communications", "energy", "tactical-medicine")),
    OrgSpec("Sloviansk Hospital Support", "sloviansk-hospital", F, "Sloviansk", "Словʼянськ", "Donetsk", "UA", ("medical", "energy", "hygiene")),
    OrgSpec("Druzhkivka Water Brigade", "druzhkivka-water", F, "Druzhkivka", "Дружківка", "Donetsk", "UA", ("water", "tools", "energy")),
    OrgSpec("Kostiantynivka Evacuation Crew", "kostiantynivka-evacuation", F, "Kostiantynivka", "Костянтинівка", "Donetsk", "UA", ("evacuation", "vehicles", "tactical-medicine")),
    OrgSpec("Pokrovsk Volunteer Medics", "pokrovsk-medics", F, "Pokrovsk", "Покровськ", "Donetsk", "UA", ("tactical-medicine", "medical", "communications")),
    OrgSpec("Dobropillia Aid Point", "dobropillia-aid", F, "Dobropillia", "Добропілля", "Donetsk", "UA", ("food", "hygiene", "shelter")),
    # Zaporizhzhia Oblast
    OrgSpec("Orikhiv Frontline Aid", "orikhiv-aid", F, "Orikhiv", "Оріхів", "Zaporizhzhia", "UA", ("tactical-medicine", "energy", "food")),
    OrgSpec("Huliaipole Neighbours", "huliaipole-neighbours", F, "Huliaipole", "Гуляйполе", "Zaporizhzhia", "UA", ("food", "water", "shelter")),
    OrgSpec("Stepnohirsk Volunteer Group", "stepnohirsk-volunteers", F, "Stepnohirsk", "Степногірськ", "Zaporizhzhia", "UA", ("tactical-medicine", "communications", "vehicles"), verified=False),
    OrgSpec("Vilniansk Humanitarian Hub", "vilniansk-hub", F, "Vilniansk", "Вільнянськ", "Zaporizhzhia", "UA", ("food", "hygiene", "clothing")),
    # Dnipropetrovsk Oblast
    OrgSpec("Nikopol Shelter Network", "nikopol-shelter", F, "Nikopol", "Нікополь", "Dnipropetrovsk", "UA", ("shelter", "energy", "water")),
    OrgSpec("Marhanets Volunteer Medics", "marhanets-medics", F, "Marhanets", "Марганець", "Dnipropetrovsk", "UA", ("medical", "tactical-medicine", "energy")),
    OrgSpec("Pokrov Community Aid", "pokrov-aid", F, "Pokrov", "Покров", "Dnipropetrovsk", "UA", ("food", "hygiene", "shelter")),
    OrgSpec("Mezhova Aid Point", "mezhova-aid", F, "Mezhova", "Межова", "Dnipropetrovsk", "UA", ("evacuation", "food", "energy"), verified=False),
    # Sumy Oblast
    OrgSpec("Okhtyrka Volunteer Rescue", "okhtyrka-rescue", F, "Okhtyrka", "Охтирка", "Sumy", "UA", ("tools", "shelter", "tactical-medicine")),
    OrgSpec("Trostianets Community Aid", "trostianets-aid", F, "Trostianets", "Тростянець", "Sumy", "UA", ("food", "clothing", "hygiene")),
    OrgSpec("Bilopillia Border Volunteers", "bilopillia-volunteers", F, "Bilopillia", "Білопілля", "Sumy", "UA", ("evacuation", "energy", "communications")),
    OrgSpec("Krasnopillia Village Aid", "krasnopillia-aid", F, "Krasnopillia", "Краснопілля", "Sumy", "UA", ("food", "water", "shelter")),
    # Kherson Oblast
    OrgSpec("Kherson Right Bank Volunteers", "kherson-volunteers", F, "Kherson", "Херсон", "Kherson", "UA", ("energy", "water", "tactical-medicine")),
    OrgSpec("Beryslav Humanitarian Group", "beryslav-aid", F, "Beryslav", "Берислав", "Kherson", "UA", ("food", "water", "medical")),
    OrgSpec("Bilozerka Aid Point", "bilozerka-aid", F, "Bilozerka", "Білозерка", "Kherson", "UA", ("shelter", "hygiene", "food")),
    OrgSpec("Darivka Village Volunteers", "darivka-volunteers", F, "Darivka", "Дарʼївка", "Kherson", "UA", ("water", "tools", "food"), verified=False),
    # Mykolaiv Oblast
    OrgSpec("Snihurivka Recovery Team", "snihurivka-recovery", F, "Snihurivka", "Снігурівка", "Mykolaiv", "UA", ("tools", "shelter", "water")),
    OrgSpec("Ochakiv Coastal Aid", "ochakiv-aid", F, "Ochakiv", "Очаків", "Mykolaiv", "UA", ("medical", "energy", "food")),
]

DONOR_COLLECTIVES = [
    OrgSpec("Kyiv Volunteer Logistics Hub", "kyiv-logistics", S, "Kyiv", "Київ", "Kyiv", "UA", ("food", "hygiene", "energy", "water")),
    OrgSpec("Podil Mutual Aid Fund", "podil-fund", D, "Kyiv", "Київ", "Kyiv", "UA", ("funds", "tactical-medicine", "communications")),
    OrgSpec("Kyiv Medical Supply Network", "kyiv-medical", S, "Kyiv", "Київ", "Kyiv", "UA", ("medical", "tactical-medicine")),
    OrgSpec("Lviv Warehouse Collective", "lviv-warehouse", S, "Lviv", "Львів", "Lviv", "UA", ("food", "clothing", "shelter", "hygiene")),
    OrgSpec("Lviv Tech Community Fund", "lviv-tech", D, "Lviv", "Львів", "Lviv", "UA", ("communications", "energy", "funds")),
    OrgSpec("Lviv Sewing Circle", "lviv-sewing", S, "Lviv", "Львів", "Lviv", "UA", ("clothing", "shelter")),
    OrgSpec("Dnipro Frontline Logistics", "dnipro-logistics", S, "Dnipro", "Дніпро", "Dnipropetrovsk", "UA", ("food", "water", "energy", "evacuation")),
    OrgSpec("Dnipro Volunteer Garage", "dnipro-garage", S, "Dnipro", "Дніпро", "Dnipropetrovsk", "UA", ("vehicles", "tools")),
    OrgSpec("Dnipro Water Initiative", "dnipro-water", S, "Dnipro", "Дніпро", "Dnipropetrovsk", "UA", ("water",)),
    OrgSpec("Kharkiv Volunteer Warehouse", "kharkiv-warehouse", S, "Kharkiv", "Харків", "Kharkiv", "UA", ("food", "hygiene", "shelter", "medical")),
    OrgSpec("Zaporizhzhia Evacuation Network", "zaporizhzhia-evacuation", S, "Zaporizhzhia", "Запоріжжя", "Zaporizhzhia", "UA", ("evacuation", "vehicles")),
    OrgSpec("Berlin Ukraine Support e.V.", "berlin-support", D, "Berlin", "Берлін", None, "DE", ("funds", "energy", "medical")),
    OrgSpec("Berliner Medizinhilfe Ukraine e.V.", "berlin-medical", D, "Berlin", "Берлін", None, "DE", ("tactical-medicine", "medical")),
    OrgSpec("Kreuzberg Hilfskonvoi", "kreuzberg-convoy", S, "Berlin", "Берлін", None, "DE", ("vehicles", "energy", "clothing")),
    OrgSpec("Warszawa dla Ukrainy", "warsaw-aid", D, "Warsaw", "Варшава", None, "PL", ("food", "hygiene", "funds")),
    OrgSpec("Fundacja Most Pomocy", "most-pomocy", S, "Warsaw", "Варшава", None, "PL", ("shelter", "energy", "tools")),
    OrgSpec("Kraków Ukrainian Community Aid", "krakow-community", D, "Kraków", "Краків", None, "PL", ("clothing", "hygiene", "medical")),
    OrgSpec("Krakowski Magazyn Pomocy", "krakow-warehouse", S, "Kraków", "Краків", None, "PL", ("food", "shelter", "water"), verified=False),
    OrgSpec("Praha pro Ukrajinu z.s.", "prague-aid", S, "Prague", "Прага", None, "CZ", ("energy", "communications", "tools")),
    OrgSpec("Wien hilft der Ukraine", "vienna-aid", D, "Vienna", "Відень", None, "AT", ("medical", "funds", "shelter")),
]

# Hubs that goods pass through (aidmatch/legs): a border crossing and a warehouse near the front.
HUBS = [
    OrgSpec("Shehyni Border Transit Hub", "shehyni-hub", H, "Shehyni", "Шегині", "Lviv", "UA", ()),
    OrgSpec("Dnipro Aid Transit Warehouse", "dnipro-transit", H, "Dnipro", "Дніпро", "Dnipropetrovsk", "UA", ()),
]

# Contact people: first names and surnames by country, combined deterministically.
PEOPLE = {
    "UA": (
        ["Olena", "Oksana", "Iryna", "Nataliia", "Tetiana", "Yuliia", "Kateryna", "Halyna",
         "Andrii", "Oleksandr", "Serhii", "Dmytro", "Volodymyr", "Mykola", "Yurii", "Taras",
         "Bohdan", "Vitalii", "Ihor", "Maksym"],
        ["Kovalenko", "Bondarenko", "Tkachenko", "Shevchenko", "Kravchenko", "Melnyk",
         "Boiko", "Marchenko", "Savchenko", "Rudenko", "Lysenko", "Moroz", "Petrenko",
         "Polishchuk", "Honcharenko", "Sydorenko", "Kharchenko", "Pavlenko"],
    ),
    "DE": (["Anna", "Lena", "Katrin", "Jonas", "Lukas", "Markus", "Sabine", "Tobias"],
           ["Müller", "Schmidt", "Fischer", "Wagner", "Becker", "Hoffmann", "Schulz", "Krüger"]),
    "AT": (["Johanna", "Florian", "Theresa", "Stefan"], ["Gruber", "Huber", "Bauer", "Wimmer"]),
    "PL": (["Agnieszka", "Katarzyna", "Piotr", "Tomasz", "Marta", "Paweł"],
           ["Nowak", "Kowalska", "Wiśniewski", "Wójcik", "Kamińska", "Lewandowski"]),
    "CZ": (["Tereza", "Jana", "Petr", "Martin"], ["Novák", "Svobodová", "Dvořák", "Černá"]),
}
PHONE_FORMATS = {
    "UA": "+380 {op} {a:03d} {b:02d} {c:02d}",
    "DE": "+49 30 {a:03d} {b:02d}{c:02d}",
    "AT": "+43 1 {a:03d} {b:02d}{c:02d}",
    "PL": "+48 {op2} {a:03d} {d:03d}",
    "CZ": "+420 {op3} {a:03d} {d:03d}",
}
UA_OPERATORS = ["50", "66", "67", "68", "73", "93", "95", "96", "97", "98", "99"]
PL_PREFIXES = ["501", "602", "691", "733", "880"]
CZ_PREFIXES = ["602", "724", "777", "608"]
LANGUAGE_BY_COUNTRY = {"UA": "uk", "DE": "de", "AT": "de", "PL": "en", "CZ": "en"}

STREETS = ["Soborna", "Nezalezhnosti", "Shevchenka", "Tsentralna", "Hrushevskoho", "Sadova",
           "Shkilna", "Vyshneva", "Zaliznychna", "Heroiv Ukrainy", "Volonterska", "Lisova"]

NEED_CONTEXT = [
    "Our team covers {town} and the villages around it; about {people} people still live there.",
    "Shelling last week destroyed part of our stock.",
    "What we have now lasts about {days} days at the present rate.",
    "We hand out through the hromada's aid point, with signed lists and photo reports.",
    "Most of the people who stayed are elderly and cannot travel to the district centre.",
    "A photo report and the distribution list follow after delivery.",
    "We also supply two neighbouring villages that have no volunteers of their own.",
]
# A sentence on why, by top-level category.
CONTEXT_BY_TOP = {
    "tactical-medicine": ["For the stabilisation point and the volunteer medics on the evacuation route.", "Our medics' kits were used up in the last week of shelling."],
    "medical": ["Asked for by the local hospital's emergency department.", "The pharmacies in town closed months ago; the nearest open one is 40 km away."],
    "energy": ["Power is cut most days since the substation was hit."],
    "water": ["The water main is damaged; most of the town has had no running water for weeks."],
    "food": ["Only one shop in town is still open, a few hours a week."],
    "hygiene": ["Without running water, people cannot wash properly at home."],
    "shelter": ["Many houses lost windows and roofs in the last strikes, and winter is coming."],
    "clothing": ["Many people left their homes in what they were wearing."],
    "communications": ["Mobile coverage drops out for days after every strike."],
    "vehicles": ["Our last car was hit by a drone on the road last month.", "The roads to the villages are passable only with high clearance."],
    "tools": ["We clear rubble and close up roofs ourselves after every strike."],
    "evacuation": ["For the crews who drive the evacuation route every day.", "More residents ask to leave now that the shelling has intensified."],
    "funds": ["Every receipt is published on our page."],
}
DELIVERY_NOTES = [
    "Call {person} ({phone}) 30 minutes before arrival; unload at the back entrance of the school on {street} St.",
    "Nova Poshta branch No {n} in {town}, recipient {person}, {phone}.",
    "Hand over at the aid point, {street} St. {n}; open 9:00-16:00, not during air raid alerts.",
    "Meet at the petrol station at the entrance to {town}; we take the load in from there in our own car.",
    "Deliver to the hospital's supply room on {street} St., ask for {person}.",
    "Do not come into town after 17:00. Text {phone} on Signal and we send someone to meet you.",
]
OFFER_CONTEXT = [
    "Collected by our supporters, sorted and packed, ready to go.",
    "Bought new with donations; receipts available.",
    "We send a convoy every two weeks; space on the next one is free.",
    "Can be picked up from our warehouse or sent with Nova Poshta.",
    "Checked and labelled in Ukrainian; instructions included.",
    "Part of a larger delivery from partner organizations; we can split it.",
]
OFFER_CONTEXT_BY_TOP = {
    "funds": ["Raised from our monthly donors.", "Raised at a charity concert; receipts are required afterwards.", "From a grant of a partner foundation, for urgent purchases."],
    "evacuation": ["Two drivers and a paramedic on every trip.", "Our vehicles carry stretchers and wheelchairs.", "Coordinated with the regional military administration's evacuation lists."],
}

# Per leaf category: need and offer quantity ranges (lo, hi, step) and title templates.
ITEMS = {
    "tourniquets": Item((10, 150, 5), (50, 400, 10), ("CAT tourniquets for the stabilisation point", "Tourniquets for evacuation crews", "Tourniquets for the village first-aid post"), ("CAT Gen 7 tourniquets", "SOF-T Wide tourniquets, certified"), "CAT or SOF-T Wide only, please: copies fail under load."),
    "hemostatic-gauze": Item((10, 100, 5), (40, 300, 10), ("Hemostatic gauze for medics", "Celox or QuikClot gauze"), ("QuikClot Combat Gauze", "Celox Rapid gauze")),
    "ifaks": Item((5, 60, 5), (20, 150, 10), ("Complete IFAKs for volunteer drivers", "IFAKs for the rescue team"), ("Complete IFAKs (tourniquet, gauze, chest seal, bandage)",)),
    "chest-seals": Item((10, 100, 10), (50, 300, 10), ("Vented chest seals", "Chest seals for medics' bags"), ("HyFin vented chest seals (pairs)",)),
    "israeli-bandages": Item((20, 200, 10), (100, 600, 20), ("Israeli bandages, 6 inch", "Emergency bandages for first-aid kits"), ("Israeli bandages 4 and 6 inch",)),
    "stretchers": Item((2, 15, 1), (5, 40, 1), ("Soft drag stretchers for cellars and stairwells", "Folding stretchers for the evacuation car"), ("Soft stretchers (Ukrainian-made)", "Folding aluminium stretchers")),
    "nasopharyngeal-airways": Item((10, 80, 5), (50, 200, 10), ("Nasopharyngeal airways 28Fr with lubricant",), ("NPA kits with lubricant",)),
    "trauma-shears": Item((5, 40, 5), (20, 150, 10), ("Trauma shears for medics",), ("Trauma shears, 19 cm",)),
    "rescue-blankets": Item((20, 200, 10), (100, 800, 50), ("Rescue blankets for evacuation", "Thermal blankets for the stabilisation point"), ("Foil rescue blankets",)),
    "medicines": Item((20, 300, 10), (100, 1500, 50), ("Blood pressure and heart medicines for elderly residents", "Painkillers and antipyretics", "Insulin supplies for diabetic patients"), ("Packs of common prescription medicines", "Painkillers and antibiotics (packs)"), "A doctor from the hospital checks the list; we can send it on request."),
    "dressings": Item((50, 500, 10), (200, 3000, 100), ("Sterile dressings and bandages", "Burn dressings"), ("Sterile dressings, mixed sizes", "Elastic and gauze bandages")),
    "first-aid-kits": Item((10, 100, 5), (30, 300, 10), ("First aid kits for households", "Car first aid kits for drivers"), ("Household first aid kits",)),
    "antiseptics": Item((20, 200, 10), (100, 1000, 50), ("Antiseptic solution (bottles)", "Chlorhexidine for wound care"), ("Antiseptic solution, 500 ml bottles",)),
    "medical-gloves": Item((10, 100, 5), (50, 500, 10), ("Nitrile gloves, size M and L (boxes)",), ("Nitrile examination gloves (boxes of 100)",)),
    "syringes-iv-sets": Item((50, 500, 25), (200, 2000, 100), ("Syringes and IV sets for the outpatient clinic",), ("Syringes and IV giving sets",)),
    "medical-equipment": Item((1, 10, 1), (2, 20, 1), ("Pulse oximeters and blood pressure monitors", "Portable oxygen concentrator", "Defibrillator for the ambulance point"), ("Pulse oximeters", "Blood pressure monitors")),
    "mobility-aids": Item((2, 20, 1), (5, 40, 1), ("Wheelchairs and walkers for elderly residents", "Crutches after injuries"), ("Wheelchairs, used and checked", "Crutches and walking frames")),
    "generators": Item((1, 4, 1), (2, 10, 1), ("Generator for the aid point", "Generator 5-7 kW for the clinic", "Inverter generator for the water pump"), ("Petrol generators 3-5 kW", "Diesel generator 10 kW")),
    "power-stations": Item((1, 10, 1), (3, 25, 1), ("EcoFlow-type power station for the medics", "Power stations for families with bedridden relatives"), ("EcoFlow Delta 2 power stations", "Bluetti power stations")),
    "power-banks": Item((10, 80, 5), (30, 300, 10), ("Power banks for residents without electricity", "Power banks 20 000 mAh"), ("Power banks 20 000 mAh",)),
    "solar-panels": Item((2, 20, 1), (5, 40, 1), ("Folding solar panels for power stations",), ("Folding solar panels 200 W",)),
    "batteries": Item((50, 500, 50), (200, 3000, 100), ("AA and AAA batteries for torches and radios",), ("AA/AAA batteries",)),
    "fuel": Item((100, 2000, 50), (500, 5000, 100), ("Diesel for the generator at the aid point", "Petrol for the evacuation cars"), ("Fuel coupons for diesel", "Diesel from our own tank")),
    "drinking-water": Item((500, 10000, 250), (2000, 30000, 500), ("Bottled drinking water for residents", "Drinking water for the shelter"), ("Bottled water, 6 l packs", "Drinking water delivery by tanker")),
    "technical-water": Item((1000, 20000, 500), (5000, 50000, 1000), ("Non-potable water for toilets and washing", "Water for the bathhouse and laundry"), ("Water tanker runs",)),
    "water-filters": Item((5, 100, 5), (20, 300, 10), ("Household water filters", "Portable water filters for the villages"), ("Water filters (gravity type)", "Portable water filters")),
    "canned-food": Item((50, 800, 10), (200, 3000, 50), ("Canned meat and fish", "Canned food for the aid point"), ("Canned meat and fish", "Canned vegetables")),
    "grains-pasta": Item((100, 1500, 50), (500, 5000, 100), ("Buckwheat, rice and pasta", "Flour and cereals for the community kitchen"), ("Buckwheat, rice and pasta",)),
    "baby-food": Item((20, 200, 5), (50, 600, 10), ("Baby formula and porridge", "Baby food for families in the villages"), ("Baby formula and purees",)),
    "dry-rations": Item((50, 500, 10), (200, 2000, 50), ("Ready-to-eat rations for rescue crews", "Dry rations for evacuation teams"), ("Ready-to-eat rations (MRE type)",)),
    "food-parcels": Item((50, 400, 10), (100, 1500, 50), ("Food parcels for families", "Food parcels for elderly residents"), ("Standard food parcels (about 12 kg)",)),
    "hygiene-kits": Item((50, 400, 10), (100, 1500, 50), ("Hygiene kits for residents", "Hygiene kits for evacuees"), ("Family hygiene kits",)),
    "nappies": Item((30, 300, 10), (100, 1000, 50), ("Adult nappies for bedridden residents", "Baby nappies, sizes 3-5"), ("Adult nappies (packs)", "Baby nappies (packs)")),
    "feminine-hygiene": Item((50, 400, 10), (100, 1200, 50), ("Sanitary pads and tampons",), ("Sanitary pads (packs)",)),
    "wet-wipes": Item((50, 500, 10), (200, 2000, 100), ("Wet wipes for places without running water",), ("Wet wipes (packs)",)),
    "soap-detergents": Item((50, 400, 10), (200, 1500, 50), ("Soap, washing powder and dish soap",), ("Soap and washing powder",)),
    "sleeping-bags": Item((10, 100, 5), (30, 300, 10), ("Winter sleeping bags (-15 °C)", "Sleeping bags for the shelter"), ("Winter sleeping bags", "Sleeping bags, sewn by volunteers")),
    "stoves": Item((3, 30, 1), (10, 60, 1), ("Wood-burning stoves for houses without gas", "Potbelly stoves for the shelter"), ("Wood-burning stoves with flue pipes",)),
    "heaters": Item((5, 40, 1), (10, 80, 1), ("Gas heaters with cylinders", "Heaters for the aid point"), ("Gas heaters", "Oil-filled electric heaters")),
    "tents": Item((1, 10, 1), (3, 25, 1), ("Heated tent for the aid point", "Tents for the rescue team"), ("Insulated tents with stove port",)),
    "blankets": Item((20, 300, 10), (100, 1000, 50), ("Warm blankets for residents", "Blankets for the shelter"), ("Wool blankets", "Fleece blankets")),
    "window-repair": Item((20, 300, 10), (100, 1000, 50), ("Plastic sheeting to close blown-out windows", "OSB boards for windows after the strike"), ("Plastic sheeting rolls", "OSB boards 12 mm")),
    "firewood": Item((1000, 20000, 500), (5000, 50000, 1000), ("Firewood for households heating with stoves", "Fuel briquettes for the winter"), ("Firewood, split and dry", "Fuel briquettes")),
    "boots": Item((10, 80, 5), (30, 300, 10), ("Winter boots, sizes 41-46", "Waterproof boots for the rescue team"), ("Winter boots, mixed sizes",)),
    "thermal-underwear": Item((20, 200, 10), (50, 600, 10), ("Thermal underwear sets", "Thermal underwear for volunteers"), ("Thermal underwear sets",)),
    "winter-clothing": Item((20, 200, 10), (50, 800, 10), ("Winter jackets for elderly residents", "Warm clothing for evacuees"), ("Winter jackets and trousers", "Warm clothing, sorted by size")),
    "warm-socks": Item((50, 500, 10), (200, 3000, 100), ("Warm socks",), ("Wool socks, hand-knitted", "Thermal socks")),
    "gloves": Item((20, 300, 10), (100, 1500, 50), ("Work gloves for clearing rubble", "Warm gloves"), ("Work gloves", "Warm gloves")),
    "childrens-clothing": Item((20, 200, 10), (50, 800, 10), ("Children's winter clothing",), ("Children's clothing, sorted by age",)),
    "radios": Item((4, 30, 2), (10, 80, 2), ("Handheld radios for the rescue team", "Radios for the evacuation crews"), ("Motorola handheld radios", "Handheld radios with spare batteries")),
    "starlink": Item((1, 5, 1), (2, 15, 1), ("Starlink terminal for the aid point", "Starlink for the hospital"), ("Starlink terminals (Standard kit)",)),
    "phones": Item((5, 40, 1), (10, 100, 1), ("Simple push-button phones for elderly residents", "Phones for volunteers"), ("Refurbished smartphones", "Push-button phones")),
    "tablets": Item((2, 15, 1), (5, 40, 1), ("Tablets for maps and coordination", "Tablets for the evacuation crews"), ("Rugged tablets",)),
    "routers": Item((2, 15, 1), (5, 40, 1), ("4G routers for the aid point",), ("4G routers with SIM cards",)),
    "pickups": Item((1, 2, 1), (1, 3, 1), ("Pickup truck to deliver aid to villages", "Pickup for the rescue team"), ("Pickup trucks, checked and repaired",)),
    "evacuation-vehicles": Item((1, 2, 1), (1, 3, 1), ("Armoured or high-clearance evacuation vehicle", "Minibus for evacuating residents"), ("4x4 evacuation vehicles",)),
    "ambulances": Item((1, 1, 1), (1, 2, 1), ("Ambulance for the village clinic", "Ambulance for evacuating the wounded"), ("Ambulances (VW T5, equipped)",)),
    "vans": Item((1, 2, 1), (1, 3, 1), ("Van to carry aid from Dnipro", "Cargo van for the community kitchen"), ("Cargo vans",)),
    "tyres": Item((4, 32, 4), (16, 120, 4), ("Off-road tyres for the evacuation cars", "Winter tyres for the pickups"), ("All-terrain tyres", "Winter tyres")),
    "spare-parts": Item((2, 20, 1), (5, 50, 1), ("Spare parts for the evacuation cars (brakes, suspension)", "Parts for the ambulance repair"), ("Spare parts sets for pickups", "Brake and suspension kits")),
    "chainsaws": Item((2, 10, 1), (5, 30, 1), ("Chainsaws for clearing fallen trees and firewood", "Chainsaws for rubble clearance"), ("Chainsaws (Stihl, Husqvarna)",)),
    "shovels": Item((10, 100, 5), (30, 300, 10), ("Shovels and crowbars for clearing rubble",), ("Shovels",)),
    "power-tools": Item((2, 15, 1), (5, 40, 1), ("Cordless drills and angle grinders", "Power tools to repair roofs"), ("Cordless tool sets with batteries",)),
    "hand-tools": Item((5, 50, 5), (20, 200, 10), ("Hammers, saws and crowbars for repairs",), ("Hand tool sets",)),
    "torches": Item((20, 200, 10), (50, 800, 10), ("Headlamps for work in cellars", "Torches for residents"), ("Headlamps", "Rechargeable torches")),
    "evacuation-trips": Item((2, 30, 1), (5, 60, 1), ("Evacuation trips for residents who want to leave", "Transport for families to Dnipro"), ("Evacuation trips to Dnipro or Zaporizhzhia",)),
    "limited-mobility-evacuation": Item((1, 15, 1), (5, 40, 1), ("Evacuation of bedridden residents", "Transport for people in wheelchairs"), ("Evacuation with a stretcher team",)),
    "animal-evacuation": Item((2, 30, 1), (5, 60, 1), ("Evacuation of pets left behind",), ("Animal evacuation with transport boxes",)),
    "temporary-housing": Item((5, 50, 1), (10, 120, 5), ("Places in a shelter for evacuated families",), ("Beds in a shelter for evacuees", "Places in a dormitory for evacuated families")),
    "funds": Item((500, 20000, 100), (2000, 50000, 500), ("Money for vehicle repairs", "Money for fuel for the evacuation runs", "Money for medicines not available as donations"), ("Grant for urgent purchases", "Fund for vehicle repairs")),
}

# Offers posted on a parent category: they can cover needs in any of its children.
PARENT_OFFERS = {
    "tactical-medicine": Item((1, 1, 1), (50, 300, 10), (), ("Mixed tactical medicine supplies (tourniquets, gauze, chest seals)",)),
    "medical": Item((1, 1, 1), (100, 1000, 50), (), ("Mixed medical supplies from a hospital donation",)),
    "hygiene": Item((1, 1, 1), (200, 1500, 50), (), ("Mixed hygiene products",)),
    "clothing": Item((1, 1, 1), (100, 1000, 50), (), ("Mixed clothing, sorted by size and season",)),
    "food": Item((1, 1, 1), (500, 4000, 100), (), ("Mixed food products from a supermarket donation",)),
    "tools": Item((1, 1, 1), (20, 200, 10), (), ("Mixed tools for repairs and rubble clearance",)),
}
# fmt: on
