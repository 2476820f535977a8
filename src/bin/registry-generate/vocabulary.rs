//! The words records are made of: cities and their zones, venues, subjects, names, networks.

pub struct City {
    pub name: &'static str,
    pub country: &'static str,
    pub zone: &'static str,
    pub weight: u32,
}

const fn city(name: &'static str, country: &'static str, zone: &'static str, weight: u32) -> City {
    City {
        name,
        country,
        zone,
        weight,
    }
}

/// Kosovo has no zone of its own in the tz database: it keeps Europe/Belgrade's time.
pub const CITIES: &[City] = &[
    city("Tirana", "AL", "Europe/Tirane", 14),
    city("Durrës", "AL", "Europe/Tirane", 3),
    city("Shkodër", "AL", "Europe/Tirane", 2),
    city("Vlorë", "AL", "Europe/Tirane", 1),
    city("Sarajevo", "BA", "Europe/Sarajevo", 14),
    city("Banja Luka", "BA", "Europe/Sarajevo", 4),
    city("Mostar", "BA", "Europe/Sarajevo", 2),
    city("Tuzla", "BA", "Europe/Sarajevo", 1),
    city("Podgorica", "ME", "Europe/Podgorica", 9),
    city("Budva", "ME", "Europe/Podgorica", 4),
    city("Kotor", "ME", "Europe/Podgorica", 1),
    city("Skopje", "MK", "Europe/Skopje", 11),
    city("Ohrid", "MK", "Europe/Skopje", 4),
    city("Bitola", "MK", "Europe/Skopje", 1),
    city("Belgrade", "RS", "Europe/Belgrade", 13),
    city("Novi Sad", "RS", "Europe/Belgrade", 3),
    city("Niš", "RS", "Europe/Belgrade", 2),
    city("Pristina", "XK", "Europe/Belgrade", 9),
    city("Prizren", "XK", "Europe/Belgrade", 2),
    city("Zagreb", "HR", "Europe/Zagreb", 4),
    city("Split", "HR", "Europe/Zagreb", 1),
    city("Dubrovnik", "HR", "Europe/Zagreb", 1),
    city("Ljubljana", "SI", "Europe/Ljubljana", 3),
    city("Brdo pri Kranju", "SI", "Europe/Ljubljana", 1),
    city("Vienna", "AT", "Europe/Vienna", 5),
    city("Brussels", "BE", "Europe/Brussels", 7),
    city("Berlin", "DE", "Europe/Berlin", 2),
    city("Rome", "IT", "Europe/Rome", 2),
    city("Athens", "GR", "Europe/Athens", 2),
    city("Thessaloniki", "GR", "Europe/Athens", 1),
    city("Sofia", "BG", "Europe/Sofia", 2),
    city("Bucharest", "RO", "Europe/Bucharest", 1),
    city("Budapest", "HU", "Europe/Budapest", 2),
    city("Bratislava", "SK", "Europe/Bratislava", 1),
    city("Prague", "CZ", "Europe/Prague", 1),
    city("Warsaw", "PL", "Europe/Warsaw", 1),
    city("Paris", "FR", "Europe/Paris", 1),
    city("Strasbourg", "FR", "Europe/Paris", 2),
    city("The Hague", "NL", "Europe/Amsterdam", 1),
    city("Luxembourg", "LU", "Europe/Luxembourg", 1),
    city("Geneva", "CH", "Europe/Zurich", 1),
];

pub const VENUES: &[&str] = &[
    "Hotel Europa",
    "EU House",
    "City Hall",
    "Palace of Congresses",
    "Hotel Bristol",
    "Hotel Continental",
    "Ministry of Interior",
    "Ministry of Justice",
    "Government Building",
    "Parliament, Small Hall",
    "University Aula",
    "Hotel Splendid",
    "Conference Centre",
    "Hotel Park",
    "Delegation of the European Union",
    "Chamber of Commerce",
    "National Library",
];

pub const STREETS: &[&str] = &[
    "Rruga e Durrësit",
    "Bulevardi Dëshmorët e Kombit",
    "Zmaja od Bosne",
    "Maršala Tita",
    "Bulevar Svetog Petra Cetinjskog",
    "Makedonija",
    "Knez Mihailova",
    "Nëna Terezë",
    "Ilica",
    "Slovenska cesta",
    "Ringstraße",
    "Rue de la Loi",
];

/// The people who chair meetings again and again, and the share of chairs they take.
pub const REGULAR_CHAIRS: usize = 20;
pub const REGULAR_CHAIR_SHARE: f64 = 0.3;

#[rustfmt::skip]
pub const TOPICS: &[&str] = &[
    "p-cve", "counter-terrorism", "radicalisation", "radicalisation in prisons", "rule of law",
    "border management", "migration", "asylum", "organised crime",
    "trafficking in human beings", "firearms control", "cybersecurity", "cybercrime",
    "money laundering", "judicial cooperation", "police cooperation", "anti-corruption",
    "youth", "education", "gender equality", "human rights", "media freedom", "civil society",
    "regional cooperation", "EU integration", "IPA II", "public administration reform",
    "energy", "connectivity", "digital agenda", "roma integration", "social inclusion",
    "disaster risk reduction", "environment", "returnees", "foreign terrorist fighters",
    "online hate speech", "community policing", "deradicalisation", "reintegration",
    "resilience", "Zaštita podataka", "Bezbednost",
];

/// Topic phrases as titles use them.
pub const SUBJECTS: &[&str] = &[
    "addressing radicalisation in prisons",
    "preventing and countering violent extremism",
    "the return and reintegration of foreign terrorist fighters",
    "border management and migration",
    "fighting organised crime",
    "firearms control in the Western Balkans",
    "cybersecurity and cybercrime",
    "anti-money laundering",
    "judicial cooperation in criminal matters",
    "police cooperation",
    "the fight against corruption",
    "youth participation",
    "gender equality in the security sector",
    "media freedom and the safety of journalists",
    "the rule of law",
    "EU integration of the Western Balkans",
    "public administration reform",
    "countering online hate speech",
    "community policing",
    "trafficking in human beings",
    "disaster risk reduction",
    "the regional digital agenda",
    "Roma integration",
    "strategic communication",
    "early warning and referral mechanisms",
    "multi-agency cooperation",
    "rehabilitation and reintegration",
    "the protection of critical infrastructure",
];

pub const AUDIENCES: &[&str] = &[
    "for national coordinators",
    "for prison staff",
    "for probation officers",
    "for police officers",
    "for prosecutors",
    "for judges",
    "for civil society organisations",
    "for local authorities",
    "for youth workers",
    "for journalists",
    "for border police",
    "for social workers",
    "for teachers",
];

pub const COUNTRY_NAMES: &[(&str, &str)] = &[
    ("AL", "Albania"),
    ("BA", "Bosnia and Herzegovina"),
    ("ME", "Montenegro"),
    ("MK", "North Macedonia"),
    ("RS", "Serbia"),
    ("XK", "Kosovo"),
];

#[rustfmt::skip]
pub const FIRST_NAMES: &[&str] = &[
    "Ana", "Arben", "Besnik", "Blerta", "Dragan", "Dušan", "Elira", "Emina", "Enver", "Fatmir",
    "Goran", "Ivana", "Jelena", "Jovana", "Kemal", "Ljiljana", "Marko", "Milica", "Mirela",
    "Nikola", "Nermin", "Olivera", "Petar", "Rezart", "Sanja", "Selma", "Snežana", "Tamara",
    "Valbona", "Vesna", "Zoran", "Željko", "Đorđe", "Aleksandar", "Maja", "Edin", "Amra",
    "Dritan", "Ilir", "Mimoza", "Bojan", "Dejan", "Katarina", "Maciej", "Filip", "Anna",
    "Thomas", "Claire", "Johannes", "Sofia", "Lucia", "Pieter", "Elena", "Ioana", "Márta",
    "Tomasz", "Kristina", "Ardita", "Gëzim", "Lirim", "Vjosa", "Hana", "Mersiha", "Haris",
];

#[rustfmt::skip]
pub const SURNAMES: &[&str] = &[
    "Bećirević", "Hoxha", "Kovačević", "Petrović", "Jovanović", "Nikolić", "Marković", "Đukić",
    "Šćepanović", "Popović", "Dimitrovski", "Stojanovski", "Krasniqi", "Gashi", "Berisha",
    "Shehu", "Dervishi", "Hadžić", "Mehmedović", "Delić", "Babić", "Ilić", "Vukčević",
    "Radulović", "Ristovska", "Trajkovski", "Kelmendi", "Rexhepi", "Çela", "Duraku", "Lukić",
    "Savić", "Tomić", "Mitrović", "Popowski", "de Ceuninck", "Novak", "Horvat", "Müller",
    "Schmidt", "Dubois", "Rossi", "Papadopoulos", "Ionescu", "Nagy", "Kowalska", "Janssen",
    "Hasanović", "Omerović", "Zeqiri", "Bajrami", "Kuqi", "Mustafa",
];

pub const POSITIONS: &[&str] = &[
    "National P-CVE Coordinator",
    "National Counter-Terrorism Coordinator",
    "Head of Unit",
    "Deputy Head of Unit",
    "Programme Manager",
    "Policy Officer",
    "Senior Adviser",
    "Minister of Interior",
    "Deputy Minister of Justice",
    "State Secretary",
    "Director-General",
    "Deputy Director-General",
    "Head of Cooperation",
    "Project Officer",
    "Regional Adviser",
    "Professor",
    "Researcher",
    "Executive Director",
    "Prison Director",
    "Chief Prosecutor",
];

pub const NETWORKS: &[(&str, &str, bool)] = &[
    ("IISG Board", "IISG Board", true),
    (
        "Regional Network of National P-CVE Coordinators",
        "RNNC",
        false,
    ),
    ("National Focal Points Group", "NFP Group", false),
    (
        "Western Balkans Counter-Terrorism initiative",
        "WBCTi",
        false,
    ),
    (
        "Integrative Internal Security Governance Support Group",
        "IISG SG",
        false,
    ),
    ("Regional Network of Prison Directors", "RNPD", false),
    (
        "South East European Prosecutors Advisory Group",
        "SEEPAG",
        false,
    ),
    ("Western Balkans Border Security Initiative", "WBBSI", false),
    ("Regional Firearms Focal Points Network", "RFFPN", false),
    ("Network of Anti-Corruption Institutions", "NACI", false),
    ("Regional Cybersecurity Working Group", "RCWG", false),
    (
        "Migration, Asylum, Refugees Regional Initiative Board",
        "MARRI Board",
        true,
    ),
    ("Regional Youth Cooperation Council", "RYCC", false),
    ("Network of Probation Services", "NPS", false),
    (
        "Police Cooperation Convention Committee",
        "PCC SEE Committee",
        false,
    ),
    ("Regional Anti-Trafficking Network", "RATN", false),
    ("Network of Judicial Training Institutions", "NJTI", false),
    ("Regional Media Freedom Platform", "RMFP", false),
    ("Western Balkans Civil Protection Network", "WBCPN", false),
    (
        "Steering Committee of the Horizontal Facility",
        "HF Steering Committee",
        true,
    ),
    ("Regional Platform on Community Policing", "RPCP", false),
    (
        "Network of Financial Intelligence Units",
        "FIU Network",
        false,
    ),
    (
        "Regional Gender Equality Mechanisms Network",
        "RGEMN",
        false,
    ),
    ("Roma Integration Focal Points", "RIFP", false),
    (
        "Regional Network of Returnee Reintegration Coordinators",
        "RNRRC",
        false,
    ),
    (
        "Western Balkans Digital Agenda Working Group",
        "WB DAWG",
        false,
    ),
    ("Regional Strategic Communication Network", "RSCN", false),
    ("Network of Local Prevention Councils", "NLPC", false),
    (
        "Board of the Regional School of Public Administration",
        "ReSPA Board",
        true,
    ),
    (
        "Regional Disaster Risk Reduction Platform",
        "DRR Platform",
        false,
    ),
];

pub const ORDINAL_SUFFIX: [&str; 4] = ["th", "st", "nd", "rd"];

pub fn ordinal(n: i32) -> String {
    let suffix = if (11..=13).contains(&(n % 100)) {
        "th"
    } else {
        match n % 10 {
            1 => ORDINAL_SUFFIX[1],
            2 => ORDINAL_SUFFIX[2],
            3 => ORDINAL_SUFFIX[3],
            _ => ORDINAL_SUFFIX[0],
        }
    };
    format!("{n}{suffix}")
}

pub const MONTHS: [&str; 12] = [
    "January",
    "February",
    "March",
    "April",
    "May",
    "June",
    "July",
    "August",
    "September",
    "October",
    "November",
    "December",
];
