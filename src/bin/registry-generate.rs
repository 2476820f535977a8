//! `registry-generate`: fills a registry with realistic, rule-abiding records for benchmarks.
//!
//! ```text
//! cargo run --release --bin registry-generate -- --database-url bench.db --events 100000 --seed 7
//! DATABASE_URL=postgres://postgres@127.0.0.1:5432/bench target/release/registry-generate --events 1000000
//! ```
//!
//! It writes ~200 organisations (some with parents), ~2,000 people, ~30 networks with members,
//! and N events over 2006–2026: Western Balkan and EU cities with their IANA zones and country
//! codes, 1–3 organisers and 0–5 participants each (20 regulars chair 30% of the meetings a
//! person chairs), topics, network series whose numbers rise with their dates, sessions inside
//! forums, chains of 2–3 back-to-back events in one city, ~5% internal and ~3% cancelled.
//!
//! Organisations, people, networks and memberships go through the store's own `create`
//! functions, so they are exactly what the API would write. Events go in bulk: each one is
//! built as an `EventInput` and checked by the API's own `validate()`, and its columns are then
//! derived the way `store::events` derives them (`search_text`, `city_key`, `topic_keys`, the
//! UTC span of `event_span`, slugs from titles with `-2`, `-3` suffixes), then written with
//! multi-row `INSERT`s on the concrete backend connection, in large transactions. Chains are
//! checked with the API's own chain rules before they are written; chain members get the
//! version (2) the API gives an event when a chain takes it in.
//!
//! The data is deterministic for a given `--seed` except ids and timestamps, which are
//! generated as the API generates them (UUIDv7, now). It can run again on a filled database:
//! new records get fresh slugs.

use std::collections::{HashMap, HashSet};
use std::time::Instant as Clock;

use chrono::{Datelike, Days, NaiveDate, NaiveTime};
use clap::Parser;
use diesel::prelude::*;
use meeting_registry::db::schema::{
    chains, event_organisers, event_participants, event_topics, events,
};
use meeting_registry::db::{AnyConnection, Database, Timestamp, write_transaction};
use meeting_registry::domain::Slug;
use meeting_registry::domain::chain::{ChainMember, check as check_chain};
use meeting_registry::domain::enums::{
    AttendanceMode, EventKind, EventStatus, MembershipRole, OrganisationKind, OrganiserRole,
    ParticipantRole, Visibility,
};
use meeting_registry::domain::event::{
    EventInput, Link, LocationInput, OrganiserInput, ParticipantInput, ValidEvent,
};
use meeting_registry::domain::organisation::{
    MembershipInput, NetworkInput, OrganisationInput, PersonInput,
};
use meeting_registry::domain::text::fold;
use meeting_registry::domain::time::LocalTime;
use meeting_registry::error::ApiError;
use meeting_registry::ids::{ChainId, EventId, NetworkId, OrganisationId, PersonId};
use meeting_registry::store::memberships::add_member;
use meeting_registry::store::networks::Networks;
use meeting_registry::store::organisations::Organisations;
use meeting_registry::store::people::People;
use meeting_registry::store::resource::{Resource, TopLevel};

#[derive(Debug, Parser)]
#[command(
    name = "registry-generate",
    about = "Fill a meeting registry with realistic records (for benchmarks)"
)]
struct Cli {
    /// `postgres://…` for PostgreSQL; anything else is a SQLite file path.
    #[arg(long, env = "DATABASE_URL", default_value = "registry.db")]
    database_url: String,
    /// Number of events to write.
    #[arg(long, default_value_t = 10_000)]
    events: usize,
    /// Seed of the pseudo-random choices.
    #[arg(long, default_value_t = 1)]
    seed: u64,
    /// Number of organisations.
    #[arg(long, default_value_t = 200)]
    organisations: usize,
    /// Number of people.
    #[arg(long, default_value_t = 2_000)]
    people: usize,
    /// Number of networks.
    #[arg(long, default_value_t = 30)]
    networks: usize,
    /// Events per committed transaction.
    #[arg(long, default_value_t = 20_000)]
    transaction_size: usize,
}

fn main() -> std::process::ExitCode {
    let cli = Cli::parse();
    match run(&cli) {
        Ok(()) => std::process::ExitCode::SUCCESS,
        Err(message) => {
            eprintln!("registry-generate: {message}");
            std::process::ExitCode::FAILURE
        }
    }
}

fn run(cli: &Cli) -> Result<(), String> {
    let started = Clock::now();
    let db = Database::connect(&cli.database_url, 1)?;
    let applied = db.migrate()?;
    eprintln!(
        "registry-generate: {} ({:?}), {applied} migration(s) applied",
        redact(&cli.database_url),
        db.backend()
    );
    let mut rng = Rng::new(cli.seed);
    db.with_connection(|conn| {
        if let AnyConnection::Sqlite(c) = conn {
            // A bigger page cache for the index-heavy bulk load; durability settings stay.
            diesel::connection::SimpleConnection::batch_execute(c, "PRAGMA cache_size = -262144; PRAGMA synchronous = NORMAL; PRAGMA temp_store = MEMORY")
                .map_err(|e| e.to_string())?;
        }
        let graph = write_transaction(conn, |conn| build_graph(conn, cli, &mut rng))
            .map_err(|e| e.to_string())?;
        eprintln!(
            "  {} organisations, {} people, {} networks ({} memberships) in {:.1}s",
            graph.organisations.len(),
            graph.people.len(),
            graph.networks.len(),
            graph.memberships,
            started.elapsed().as_secs_f64()
        );
        let mut writer = EventWriter::new(conn)?;
        let mut planner = Planner::new(&graph, cli.events, &mut rng);
        let events_started = Clock::now();
        let mut transaction = Batch::default();
        while let Some(group) = planner.next_group(&mut rng) {
            writer.add_group(group, &mut transaction)?;
            if transaction.events.len() >= cli.transaction_size {
                writer.commit(conn, std::mem::take(&mut transaction))?;
                let done = writer.written;
                let secs = events_started.elapsed().as_secs_f64();
                eprintln!(
                    "  {done:>9} / {} events  {:>7.0} events/s  {secs:>6.1}s",
                    cli.events,
                    done as f64 / secs.max(0.001)
                );
            }
        }
        if !transaction.events.is_empty() {
            writer.commit(conn, transaction)?;
        }
        let secs = events_started.elapsed().as_secs_f64();
        eprintln!(
            "  {} events ({} in {} chains, {} network series meetings, {} sessions, {} internal, {} cancelled) in {secs:.1}s ({:.0} events/s)",
            writer.written,
            writer.chained,
            writer.chains,
            writer.series,
            writer.sessions,
            writer.internal,
            writer.cancelled,
            writer.written as f64 / secs.max(0.001)
        );
        if let AnyConnection::Postgresql(c) = conn {
            // VACUUM marks the loaded pages all-visible, as autovacuum would in time: index-only
            // scans (a list page) then skip the table from the start.
            diesel::connection::SimpleConnection::batch_execute(c, "VACUUM ANALYZE")
                .map_err(|e| e.to_string())?;
        } else if let AnyConnection::Sqlite(c) = conn {
            // A bulk load leaves the text index in many segments, each read by every search
            // until they are merged into one.
            diesel::connection::SimpleConnection::batch_execute(
                c,
                "INSERT INTO events_search (events_search) VALUES ('optimize'); \
                 ANALYZE; PRAGMA wal_checkpoint(TRUNCATE);",
            )
            .map_err(|e| e.to_string())?;
        }
        Ok(())
    })?;
    println!(
        "registry-generate: wrote {} events in {:.1}s",
        cli.events,
        started.elapsed().as_secs_f64()
    );
    Ok(())
}

fn redact(url: &str) -> String {
    if let Some((scheme, rest)) = url.split_once("://")
        && let Some((userinfo, host)) = rest.rsplit_once('@')
        && let Some((user, _password)) = userinfo.split_once(':')
    {
        return format!("{scheme}://{user}:…@{host}");
    }
    url.to_owned()
}

// ---------------------------------------------------------------------------------------------
// Pseudo-random choices (splitmix64; no dependency, reproducible by seed).

struct Rng(u64);

impl Rng {
    fn new(seed: u64) -> Self {
        Self(seed ^ 0x9e37_79b9_7f4a_7c15)
    }

    fn next(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9e37_79b9_7f4a_7c15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
        z ^ (z >> 31)
    }

    /// Uniform in `0..n` (n > 0).
    fn below(&mut self, n: usize) -> usize {
        ((self.next() >> 11) as f64 / (1u64 << 53) as f64 * n as f64) as usize % n.max(1)
    }

    fn range(&mut self, low: usize, high_inclusive: usize) -> usize {
        low + self.below(high_inclusive - low + 1)
    }

    fn chance(&mut self, p: f64) -> bool {
        ((self.next() >> 11) as f64 / (1u64 << 53) as f64) < p
    }

    fn pick<'a, T>(&mut self, items: &'a [T]) -> &'a T {
        &items[self.below(items.len())]
    }

    /// Index by weight.
    fn weighted(&mut self, weights: &[u32]) -> usize {
        let total: u32 = weights.iter().sum();
        let mut x = self.below(total as usize) as u32;
        for (i, w) in weights.iter().enumerate() {
            if x < *w {
                return i;
            }
            x -= w;
        }
        weights.len() - 1
    }

    /// `k` distinct indexes of `0..n`.
    fn distinct(&mut self, n: usize, k: usize) -> Vec<usize> {
        let mut chosen = Vec::with_capacity(k);
        while chosen.len() < k.min(n) {
            let i = self.below(n);
            if !chosen.contains(&i) {
                chosen.push(i);
            }
        }
        chosen
    }
}

// ---------------------------------------------------------------------------------------------
// Vocabulary.

struct City {
    name: &'static str,
    country: &'static str,
    zone: &'static str,
    weight: u32,
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
const CITIES: &[City] = &[
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

const VENUES: &[&str] = &[
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

const STREETS: &[&str] = &[
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
const REGULAR_CHAIRS: usize = 20;
const REGULAR_CHAIR_SHARE: f64 = 0.3;

#[rustfmt::skip]
const TOPICS: &[&str] = &[
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
const SUBJECTS: &[&str] = &[
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

const AUDIENCES: &[&str] = &[
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

const COUNTRY_NAMES: &[(&str, &str)] = &[
    ("AL", "Albania"),
    ("BA", "Bosnia and Herzegovina"),
    ("ME", "Montenegro"),
    ("MK", "North Macedonia"),
    ("RS", "Serbia"),
    ("XK", "Kosovo"),
];

#[rustfmt::skip]
const FIRST_NAMES: &[&str] = &[
    "Ana", "Arben", "Besnik", "Blerta", "Dragan", "Dušan", "Elira", "Emina", "Enver", "Fatmir",
    "Goran", "Ivana", "Jelena", "Jovana", "Kemal", "Ljiljana", "Marko", "Milica", "Mirela",
    "Nikola", "Nermin", "Olivera", "Petar", "Rezart", "Sanja", "Selma", "Snežana", "Tamara",
    "Valbona", "Vesna", "Zoran", "Željko", "Đorđe", "Aleksandar", "Maja", "Edin", "Amra",
    "Dritan", "Ilir", "Mimoza", "Bojan", "Dejan", "Katarina", "Maciej", "Filip", "Anna",
    "Thomas", "Claire", "Johannes", "Sofia", "Lucia", "Pieter", "Elena", "Ioana", "Márta",
    "Tomasz", "Kristina", "Ardita", "Gëzim", "Lirim", "Vjosa", "Hana", "Mersiha", "Haris",
];

#[rustfmt::skip]
const SURNAMES: &[&str] = &[
    "Bećirević", "Hoxha", "Kovačević", "Petrović", "Jovanović", "Nikolić", "Marković", "Đukić",
    "Šćepanović", "Popović", "Dimitrovski", "Stojanovski", "Krasniqi", "Gashi", "Berisha",
    "Shehu", "Dervishi", "Hadžić", "Mehmedović", "Delić", "Babić", "Ilić", "Vukčević",
    "Radulović", "Ristovska", "Trajkovski", "Kelmendi", "Rexhepi", "Çela", "Duraku", "Lukić",
    "Savić", "Tomić", "Mitrović", "Popowski", "de Ceuninck", "Novak", "Horvat", "Müller",
    "Schmidt", "Dubois", "Rossi", "Papadopoulos", "Ionescu", "Nagy", "Kowalska", "Janssen",
    "Hasanović", "Omerović", "Zeqiri", "Bajrami", "Kuqi", "Mustafa",
];

const POSITIONS: &[&str] = &[
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

const NETWORKS: &[(&str, &str, bool)] = &[
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

const ORDINAL_SUFFIX: [&str; 4] = ["th", "st", "nd", "rd"];

fn ordinal(n: i32) -> String {
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

const MONTHS: [&str; 12] = [
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

// ---------------------------------------------------------------------------------------------
// The graph: organisations, people, networks (through the store, as the API writes them).

struct Org {
    id: OrganisationId,
    name: String,
    acronym: Option<String>,
    domain: String,
}

struct Net {
    id: NetworkId,
    slug: String,
    acronym: String,
    name: String,
    board: bool,
    established: NaiveDate,
    coordinator: usize,
}

struct Graph {
    organisations: Vec<Org>,
    people: Vec<(PersonId, String)>,
    networks: Vec<Net>,
    memberships: usize,
}

struct OrgSpec {
    name: String,
    acronym: Option<String>,
    kind: OrganisationKind,
    country: Option<&'static str>,
    parent: Option<usize>,
    website: Option<String>,
}

fn org_specs(target: usize, rng: &mut Rng) -> Vec<OrgSpec> {
    use OrganisationKind as K;
    let mut specs: Vec<OrgSpec> = Vec::new();
    let mut add = |name: &str,
                   acronym: Option<&str>,
                   kind: OrganisationKind,
                   country: Option<&'static str>,
                   parent: Option<usize>,
                   site: Option<&str>| {
        specs.push(OrgSpec {
            name: name.to_owned(),
            acronym: acronym.map(str::to_owned),
            kind,
            country,
            parent,
            website: site.map(|s| format!("https://{s}/")),
        });
        specs.len() - 1
    };
    let eu = add(
        "European Union",
        Some("EU"),
        K::EuInstitution,
        None,
        None,
        Some("european-union.europa.eu"),
    );
    let ec = add(
        "European Commission",
        None,
        K::EuInstitution,
        None,
        Some(eu),
        Some("commission.europa.eu"),
    );
    add(
        "Directorate-General for Neighbourhood and Enlargement Negotiations",
        Some("DG NEAR"),
        K::EuInstitution,
        None,
        Some(ec),
        Some("neighbourhood-enlargement.ec.europa.eu"),
    );
    add(
        "Directorate-General for Migration and Home Affairs",
        Some("DG HOME"),
        K::EuInstitution,
        None,
        Some(ec),
        Some("home-affairs.ec.europa.eu"),
    );
    add(
        "Directorate-General for Justice and Consumers",
        Some("DG JUST"),
        K::EuInstitution,
        None,
        Some(ec),
        None,
    );
    let eeas = add(
        "European External Action Service",
        Some("EEAS"),
        K::EuInstitution,
        None,
        Some(eu),
        Some("www.eeas.europa.eu"),
    );
    add(
        "Council of the European Union",
        None,
        K::EuInstitution,
        None,
        Some(eu),
        None,
    );
    add(
        "European Parliament",
        Some("EP"),
        K::EuInstitution,
        None,
        Some(eu),
        None,
    );
    add(
        "European Union Agency for Law Enforcement Cooperation",
        Some("Europol"),
        K::EuInstitution,
        Some("NL"),
        Some(eu),
        Some("www.europol.europa.eu"),
    );
    add(
        "European Union Agency for Criminal Justice Cooperation",
        Some("Eurojust"),
        K::EuInstitution,
        Some("NL"),
        Some(eu),
        None,
    );
    add(
        "European Border and Coast Guard Agency",
        Some("Frontex"),
        K::EuInstitution,
        Some("PL"),
        Some(eu),
        None,
    );
    add(
        "European Union Agency for Law Enforcement Training",
        Some("CEPOL"),
        K::EuInstitution,
        Some("HU"),
        Some(eu),
        None,
    );
    for (code, country) in COUNTRY_NAMES {
        add(
            &format!("EU Delegation to {country}"),
            None,
            K::EuInstitution,
            Some(*code),
            Some(eeas),
            None,
        );
    }
    let coe = add(
        "Council of Europe",
        Some("CoE"),
        K::InternationalOrganisation,
        Some("FR"),
        None,
        Some("www.coe.int"),
    );
    add(
        "Horizontal Facility for the Western Balkans and Türkiye",
        Some("HF II"),
        K::Programme,
        None,
        Some(coe),
        None,
    );
    for (name, acronym) in [
        (
            "Organization for Security and Co-operation in Europe",
            "OSCE",
        ),
        ("United Nations Development Programme", "UNDP"),
        ("United Nations Office on Drugs and Crime", "UNODC"),
        ("International Organization for Migration", "IOM"),
        ("United Nations Children's Fund", "UNICEF"),
        ("UN Women", "UN Women"),
        (
            "International Centre for Migration Policy Development",
            "ICMPD",
        ),
        ("North Atlantic Treaty Organization", "NATO"),
        ("Global Counterterrorism Forum", "GCTF"),
        ("Global Community Engagement and Resilience Fund", "GCERF"),
    ] {
        add(
            name,
            Some(acronym),
            K::InternationalOrganisation,
            None,
            None,
            None,
        );
    }
    for (name, acronym, country) in [
        ("Regional Cooperation Council", "RCC", "BA"),
        ("Regional School of Public Administration", "ReSPA", "ME"),
        (
            "Migration, Asylum, Refugees Regional Initiative",
            "MARRI",
            "MK",
        ),
        (
            "Regional Arms Control Verification and Implementation Assistance Centre",
            "RACVIAC",
            "HR",
        ),
        ("Southeast European Law Enforcement Center", "SELEC", "RO"),
        ("Regional Youth Cooperation Office", "RYCO", "AL"),
        ("Western Balkans Fund", "WBF", "AL"),
        (
            "Police Cooperation Convention for Southeast Europe Secretariat",
            "PCC SEE",
            "SI",
        ),
    ] {
        add(
            name,
            Some(acronym),
            K::RegionalOrganisation,
            Some(country),
            None,
            None,
        );
    }
    let iisg = add(
        "Integrative Internal Security Governance",
        Some("IISG"),
        K::Programme,
        None,
        None,
        Some("wb-iisg.com"),
    );
    add(
        "IISG Support Group",
        None,
        K::Programme,
        None,
        Some(iisg),
        None,
    );
    for (code, country) in COUNTRY_NAMES {
        let government = add(
            &format!("Government of {country}"),
            None,
            K::Government,
            Some(*code),
            None,
            None,
        );
        for ministry in [
            "Interior",
            "Justice",
            "Foreign Affairs",
            "Education",
            "Finance",
            "Labour and Social Policy",
        ] {
            add(
                &format!("Ministry of {ministry} of {country}"),
                None,
                K::Ministry,
                Some(*code),
                Some(government),
                None,
            );
        }
        add(
            &format!("Office of the National P-CVE Coordinator of {country}"),
            None,
            K::Government,
            Some(*code),
            Some(government),
            None,
        );
        add(
            &format!("Prison Administration of {country}"),
            None,
            K::Government,
            Some(*code),
            Some(government),
            None,
        );
    }
    let donors = [
        ("AT", "Austria"),
        ("DE", "Germany"),
        ("FR", "France"),
        ("IT", "Italy"),
        ("NL", "the Netherlands"),
        ("SE", "Sweden"),
        ("GB", "the United Kingdom"),
        ("US", "the United States"),
        ("CH", "Switzerland"),
        ("NO", "Norway"),
    ];
    for (code, donor) in donors {
        let capital = rng.pick(COUNTRY_NAMES).1;
        add(
            &format!("Embassy of {donor} in {capital}"),
            None,
            K::Embassy,
            Some(code),
            None,
            None,
        );
    }
    let universities = [
        ("University of Tirana", "AL"),
        ("University of Sarajevo", "BA"),
        ("University of Montenegro", "ME"),
        ("Ss. Cyril and Methodius University in Skopje", "MK"),
        ("University of Belgrade", "RS"),
        ("University of Prishtina", "XK"),
        ("University of Banja Luka", "BA"),
        ("University of Novi Sad", "RS"),
        ("University of Vienna", "AT"),
        ("College of Europe", "BE"),
    ];
    let mut count = 0;
    for (name, code) in universities {
        count = add(name, None, K::Academic, Some(code), None, None) + 1;
    }
    let ngo_words = [
        "Centre for",
        "Institute for",
        "Foundation for",
        "Initiative for",
        "Forum for",
        "Association for",
    ];
    let ngo_subjects = [
        "Security Studies",
        "Democracy and Human Rights",
        "Youth Empowerment",
        "Civic Education",
        "Media Development",
        "Peace and Tolerance",
        "Legal Assistance",
        "Social Research",
        "European Integration",
        "Women's Rights",
        "Policy Studies",
        "Prison Reform",
        "Community Resilience",
        "Digital Rights",
        "Interfaith Dialogue",
    ];
    let mut n = 0;
    while count < target {
        let (code, _) = COUNTRY_NAMES[n % COUNTRY_NAMES.len()];
        let word = ngo_words[(n / COUNTRY_NAMES.len()) % ngo_words.len()];
        let subject = ngo_subjects[(n * 7 + n / 11) % ngo_subjects.len()];
        let city = CITIES
            .iter()
            .find(|c| c.country == code)
            .map(|c| c.name)
            .unwrap_or("");
        let kind = if n % 9 == 8 { K::Other } else { K::Ngo };
        count = add(
            &format!("{word} {subject} {city}"),
            None,
            kind,
            Some(code),
            None,
            None,
        ) + 1;
        n += 1;
    }
    specs.truncate(target.max(1));
    specs
}

fn build_graph(conn: &mut AnyConnection, cli: &Cli, rng: &mut Rng) -> Result<Graph, ApiError> {
    let invalid = |what: &str, e: Vec<meeting_registry::error::FieldError>| {
        ApiError::internal(format!("generated {what} is invalid: {e:?}"))
    };
    let mut organisations: Vec<Org> = Vec::new();
    for spec in org_specs(cli.organisations, rng) {
        let input = OrganisationInput {
            name: spec.name.clone(),
            slug: None,
            acronym: spec.acronym.clone(),
            kind: spec.kind,
            country_code: spec.country.map(str::to_owned),
            parent_id: spec
                .parent
                .filter(|p| *p < organisations.len())
                .map(|p| organisations[p].id.to_string()),
            website: spec.website.clone(),
            description: rng.chance(0.4).then(|| {
                format!(
                    "{} works on {} across the Western Balkans.",
                    spec.name,
                    rng.pick(SUBJECTS)
                )
            }),
        };
        let valid = Organisations::validate(input).map_err(|e| invalid("organisation", e))?;
        let id = Organisations::create(conn, &valid)?;
        let domain = match &spec.website {
            Some(site) => site
                .trim_start_matches("https://")
                .trim_end_matches('/')
                .to_owned(),
            None => format!(
                "{}.example.org",
                Slug::from_title(spec.acronym.as_deref().unwrap_or(&spec.name))
            ),
        };
        organisations.push(Org {
            id,
            name: spec.name,
            acronym: spec.acronym,
            domain,
        });
    }

    let mut people = Vec::new();
    for i in 0..cli.people {
        let first = *rng.pick(FIRST_NAMES);
        let last = *rng.pick(SURNAMES);
        let full_name = format!("{first} {last}");
        let organisation = rng.below(organisations.len());
        let org = &organisations[organisation];
        let email = rng.chance(0.6).then(|| {
            format!(
                "{}.{}{}@{}",
                Slug::from_title(first),
                Slug::from_title(last),
                if i.is_multiple_of(3) {
                    String::new()
                } else {
                    (i % 97).to_string()
                },
                org.domain
            )
        });
        let phone = rng.chance(0.3).then(|| {
            format!(
                "+3{} {} {:03} {:04}",
                rng.range(55, 89),
                rng.range(2, 9),
                rng.below(1000),
                rng.below(10_000)
            )
        });
        let input = PersonInput {
            full_name: full_name.clone(),
            slug: None,
            honorific: Some((*rng.pick(&["Mr", "Ms", "Dr", "H.E.", "Prof."])).to_owned()),
            position: Some(format!(
                "{}, {}",
                rng.pick(POSITIONS),
                org.acronym.as_deref().unwrap_or(&org.name)
            )),
            organisation_id: Some(org.id.to_string()),
            email,
            phone,
        };
        let valid = People::validate(input).map_err(|e| invalid("person", e))?;
        let id = People::create(conn, &valid)?;
        people.push((id, full_name));
    }

    let mut networks = Vec::new();
    let mut memberships = 0;
    for i in 0..cli.networks {
        let (name, acronym, board) = NETWORKS[i % NETWORKS.len()];
        let (name, acronym) = if i < NETWORKS.len() {
            (name.to_owned(), acronym.to_owned())
        } else {
            let round = i / NETWORKS.len() + 1;
            (format!("{name} ({round})"), format!("{acronym} {round}"))
        };
        let year = 2006 + rng.below(15) as i32;
        let established =
            NaiveDate::from_ymd_opt(year, rng.range(1, 12) as u32, 1).unwrap_or_default();
        let coordinator = rng.below(organisations.len());
        let supporter_count = rng.range(1, 3);
        let supporters: Vec<String> = rng
            .distinct(organisations.len(), supporter_count)
            .into_iter()
            .map(|s| organisations[s].id.to_string())
            .collect();
        let input = NetworkInput {
            name: name.clone(),
            slug: None,
            acronym: Some(acronym.clone()),
            description: Some(format!(
                "The {name} ({acronym}) brings together the Western Balkan administrations on {}.",
                rng.pick(SUBJECTS)
            )),
            established_on: Some(established),
            coordinator_id: Some(organisations[coordinator].id.to_string()),
            supporter_ids: supporters,
            website: None,
        };
        let valid = Networks::validate(input).map_err(|e| invalid("network", e))?;
        let id = Networks::create(conn, &valid)?;
        let slug = Networks::get(conn, &id.to_string(), Default::default())
            .map(|n| Networks::slug(&n).to_owned())?;
        let member_count = rng.range(6, 14);
        for (m, person) in rng
            .distinct(people.len(), member_count)
            .into_iter()
            .enumerate()
        {
            let role = match m {
                0 => MembershipRole::Chair,
                1 => MembershipRole::Secretariat,
                _ => *rng.pick(&[
                    MembershipRole::Member,
                    MembershipRole::Member,
                    MembershipRole::Member,
                    MembershipRole::FocalPoint,
                    MembershipRole::Observer,
                    MembershipRole::CoChair,
                ]),
            };
            let since = established
                .checked_add_days(Days::new(rng.below(2000) as u64))
                .unwrap_or(established);
            let until = rng
                .chance(0.25)
                .then(|| since.checked_add_days(Days::new(rng.range(200, 1500) as u64)))
                .flatten();
            let input = MembershipInput {
                person_id: Some(people[person].0.to_string()),
                organisation_id: None,
                role,
                country_code: Some(COUNTRY_NAMES[m % COUNTRY_NAMES.len()].0.to_owned()),
                since: Some(since),
                until,
            };
            let valid = input.validate().map_err(|e| invalid("membership", e))?;
            add_member(conn, &id.to_string(), &valid)?;
            memberships += 1;
        }
        networks.push(Net {
            id,
            slug,
            acronym,
            name,
            board,
            established,
            coordinator,
        });
    }
    Ok(Graph {
        organisations,
        people,
        networks,
        memberships,
    })
}

// ---------------------------------------------------------------------------------------------
// Planning events: what to write, as the API's own input type.

/// A participant: a person or an organisation, and its role.
type Participant = (Option<PersonId>, Option<OrganisationId>, ParticipantRole);

/// An event to write, with its references already as ids.
struct Planned {
    id: EventId,
    input: EventInput,
    slug: Option<String>,
    network: Option<NetworkId>,
    parent: Option<EventId>,
    organisers: Vec<(OrganisationId, OrganiserRole)>,
    participants: Vec<Participant>,
    series: bool,
}

/// Events written together: one event, a forum with its sessions, or a chain.
struct Group {
    events: Vec<Planned>,
    chain: Option<String>,
}

struct Planner<'g> {
    graph: &'g Graph,
    /// Network series meetings, in the order they are written.
    series: Vec<(usize, i32, NaiveDate)>,
    remaining: usize,
    city_weights: Vec<u32>,
    first_day: NaiveDate,
    days: usize,
}

impl<'g> Planner<'g> {
    fn new(graph: &'g Graph, total: usize, rng: &mut Rng) -> Self {
        let last_day = NaiveDate::from_ymd_opt(2026, 12, 31).unwrap_or_default();
        // Each network meets 2–4 times a year from its founding; numbers rise with the dates.
        // Series meetings are at most a fifth of all events (for small runs).
        let mut series = Vec::new();
        for (n, net) in graph.networks.iter().enumerate() {
            let per_year = rng.range(2, 4) as u64;
            let mut day = net
                .established
                .checked_add_days(Days::new(rng.range(20, 120) as u64))
                .unwrap_or(net.established);
            let mut number = 1;
            while day <= last_day {
                series.push((n, number, day));
                number += 1;
                day = day
                    .checked_add_days(Days::new(365 / per_year - 20 + rng.below(40) as u64))
                    .unwrap_or(last_day);
            }
        }
        let cap = total / 5;
        if series.len() > cap {
            // Keep each network's first meetings so numbers still start at 1 and rise.
            series.sort_by_key(|(_, number, _)| *number);
            series.truncate(cap);
        }
        series.sort_by_key(|(_, _, day)| *day);
        let first_day = NaiveDate::from_ymd_opt(2006, 1, 1).unwrap_or_default();
        Self {
            graph,
            series,
            remaining: total,
            city_weights: CITIES.iter().map(|c| c.weight).collect(),
            first_day,
            days: (last_day - first_day).num_days() as usize,
        }
    }

    fn next_group(&mut self, rng: &mut Rng) -> Option<Group> {
        if self.remaining == 0 {
            return None;
        }
        // Series meetings are spread through the run.
        if !self.series.is_empty() && rng.below(self.remaining) < self.series.len() {
            let (n, number, day) = self.series.remove(0);
            self.remaining -= 1;
            return Some(Group {
                events: vec![self.series_meeting(n, number, day, rng)],
                chain: None,
            });
        }
        let budget = self.remaining - self.series.len();
        if budget == 0 {
            // Only series meetings are left.
            let (n, number, day) = self.series.remove(0);
            self.remaining -= 1;
            return Some(Group {
                events: vec![self.series_meeting(n, number, day, rng)],
                chain: None,
            });
        }
        let day = self.random_day(rng);
        let city = &CITIES[rng.weighted(&self.city_weights)];
        let group = if budget >= 3 && rng.chance(0.02) {
            self.chain(day, city, rng.range(2, 3), rng)
        } else if budget >= 4 && rng.chance(0.008) {
            self.forum_with_sessions(day, city, rng.range(2, 3), rng)
        } else {
            Group {
                events: vec![self.event(day, city, None, rng)],
                chain: None,
            }
        };
        self.remaining -= group.events.len();
        Some(group)
    }

    fn random_day(&self, rng: &mut Rng) -> NaiveDate {
        self.first_day
            .checked_add_days(Days::new(rng.below(self.days) as u64))
            .unwrap_or(self.first_day)
    }

    fn organisers(
        &self,
        rng: &mut Rng,
        first: Option<usize>,
    ) -> Vec<(OrganisationId, OrganiserRole)> {
        let orgs = &self.graph.organisations;
        let count = rng.range(1, 3);
        let mut chosen = rng.distinct(orgs.len(), count);
        if let Some(first) = first {
            chosen.retain(|i| *i != first);
            chosen.insert(0, first);
            chosen.truncate(3);
        }
        chosen
            .into_iter()
            .enumerate()
            .map(|(i, o)| {
                let role = if i == 0 {
                    OrganiserRole::Organiser
                } else {
                    *rng.pick(&[
                        OrganiserRole::CoOrganiser,
                        OrganiserRole::Host,
                        OrganiserRole::Funder,
                        OrganiserRole::Supporter,
                        OrganiserRole::ImplementingPartner,
                    ])
                };
                (orgs[o].id, role)
            })
            .collect()
    }

    fn participants(&self, rng: &mut Rng) -> Vec<Participant> {
        let count = rng.weighted(&[15, 20, 20, 20, 15, 10]);
        let drawn = rng.distinct(self.graph.people.len(), count);
        let mut people = drawn.iter().copied();
        (0..count)
            .map(|i| {
                let role = match i {
                    0 => ParticipantRole::Chair,
                    _ => *rng.pick(&[
                        ParticipantRole::Speaker,
                        ParticipantRole::Speaker,
                        ParticipantRole::Participant,
                        ParticipantRole::Participant,
                        ParticipantRole::CoChair,
                        ParticipantRole::Observer,
                        ParticipantRole::Invitee,
                    ]),
                };
                if rng.chance(0.15) {
                    let o = rng.below(self.graph.organisations.len());
                    (None, Some(self.graph.organisations[o].id), role)
                } else {
                    let mut p = people.next().unwrap_or(0);
                    // Chairs repeat: the registry's regulars (the first few people) chair
                    // 30% of the meetings, as a network's chair or a ministry's coordinator
                    // does. A regular already drawn for this event keeps the
                    // random pick, so no one takes two seats.
                    if i == 0 && rng.chance(REGULAR_CHAIR_SHARE) {
                        let regular = rng.below(REGULAR_CHAIRS.min(self.graph.people.len()));
                        if !drawn.contains(&regular) {
                            p = regular;
                        }
                    }
                    (Some(self.graph.people[p].0), None, role)
                }
            })
            .collect()
    }

    fn topics(&self, rng: &mut Rng, first: Option<&str>) -> Vec<String> {
        let mut topics: Vec<String> = first.map(str::to_owned).into_iter().collect();
        let count = rng.weighted(&[10, 30, 30, 20, 10]);
        for i in rng.distinct(TOPICS.len(), count) {
            if !topics.iter().any(|t| t == TOPICS[i]) {
                topics.push(TOPICS[i].to_owned());
            }
        }
        topics
    }

    fn status(&self, day: NaiveDate, rng: &mut Rng) -> EventStatus {
        let upcoming = day.year() >= 2026;
        let weights: [u32; 6] = if upcoming {
            [870, 80, 10, 10, 30, 0]
        } else {
            [925, 5, 10, 10, 30, 20]
        };
        [
            EventStatus::Scheduled,
            EventStatus::Tentative,
            EventStatus::Postponed,
            EventStatus::Rescheduled,
            EventStatus::Cancelled,
            EventStatus::MovedOnline,
        ][rng.weighted(&weights)]
    }

    fn times(&self, rng: &mut Rng) -> (Option<LocalTime>, Option<LocalTime>) {
        if rng.chance(0.45) {
            let start = NaiveTime::from_hms_opt(rng.range(8, 10) as u32, *rng.pick(&[0, 30]), 0);
            let end = NaiveTime::from_hms_opt(rng.range(13, 18) as u32, *rng.pick(&[0, 30]), 0);
            (start.map(LocalTime::from), end.map(LocalTime::from))
        } else {
            (None, None)
        }
    }

    fn location(&self, city: &City, mode: AttendanceMode, rng: &mut Rng) -> Option<LocationInput> {
        if mode == AttendanceMode::Online && rng.chance(0.7) {
            return None;
        }
        Some(LocationInput {
            venue: rng.chance(0.7).then(|| {
                let venue = *rng.pick(VENUES);
                if venue.starts_with("Hotel") || venue.contains(',') {
                    format!("{venue} {}", city.name)
                } else {
                    format!("{venue}, {}", city.name)
                }
            }),
            city: Some(city.name.to_owned()),
            country_code: Some(if rng.chance(0.1) {
                city.country.to_ascii_lowercase()
            } else {
                city.country.to_owned()
            }),
            address: rng
                .chance(0.2)
                .then(|| format!("{} {}", rng.pick(STREETS), rng.range(1, 120))),
        })
    }

    fn links(&self, org: &Org, day: NaiveDate, rng: &mut Rng) -> Vec<Link> {
        if !rng.chance(0.3) {
            return Vec::new();
        }
        let mut links = vec![Link {
            title: "Agenda".to_owned(),
            url: format!(
                "https://{}/events/{}/{}",
                org.domain,
                day.year(),
                rng.below(100_000)
            ),
        }];
        if rng.chance(0.3) {
            links.push(Link {
                title: "Report".to_owned(),
                url: format!(
                    "https://{}/reports/{}-{}.pdf",
                    org.domain,
                    day.year(),
                    rng.below(1000)
                ),
            });
        }
        links
    }

    fn description(
        &self,
        title: &str,
        city: &City,
        organisers: &[(OrganisationId, OrganiserRole)],
        participants: &[Participant],
        rng: &mut Rng,
    ) -> Option<String> {
        if rng.chance(0.15) {
            return None;
        }
        let organiser = self
            .graph
            .organisations
            .iter()
            .find(|o| Some(o.id) == organisers.first().map(|(id, _)| *id))
            .map(|o| o.name.as_str())
            .unwrap_or("the organisers");
        let chair = participants
            .iter()
            .find_map(|(person, _, role)| {
                (*role == ParticipantRole::Chair)
                    .then_some(*person)
                    .flatten()
            })
            .and_then(|p| self.graph.people.iter().find(|(id, _)| *id == p))
            .map(|(_, name)| name.as_str());
        let mut text = format!(
            "{title} will take place in {}, organised by {organiser}. It will bring together representatives of the six Western Balkan partners (Albania, Bosnia and Herzegovina, Kosovo*, Montenegro, North Macedonia and Serbia) to exchange experience on {}.",
            city.name,
            rng.pick(SUBJECTS)
        );
        if let Some(chair) = chair {
            text.push_str(&format!(" The meeting will be chaired by {chair}."));
        }
        if rng.chance(0.3) {
            text.push_str("\n\nParticipation is by invitation only.");
        }
        Some(text)
    }

    fn title(
        &self,
        kind: EventKind,
        city: &City,
        network: Option<&Net>,
        org: &Org,
        rng: &mut Rng,
    ) -> String {
        let subject = *rng.pick(SUBJECTS);
        let country = COUNTRY_NAMES
            .iter()
            .find(|(c, _)| *c == city.country)
            .map(|(_, n)| *n)
            .unwrap_or("the Western Balkans");
        let by = org.acronym.as_deref().unwrap_or(&org.name);
        match kind {
            EventKind::Conference => match rng.below(4) {
                0 => format!("Regional conference on {subject}"),
                1 => format!("{by} regional conference on {subject} in the Western Balkans"),
                2 => format!("International conference on {subject}, {}", city.name),
                _ => format!("Annual conference on {subject}"),
            },
            EventKind::Forum => match rng.below(3) {
                0 => format!("EU-Western Balkans Ministerial Forum on {subject}"),
                1 => format!("{} Forum on {subject}", city.name),
                _ => format!("Regional forum on {subject}"),
            },
            EventKind::Workshop => format!("Workshop on {subject} {}", rng.pick(AUDIENCES)),
            EventKind::Training => match rng.below(2) {
                0 => format!("Training on {subject} {}", rng.pick(AUDIENCES)),
                _ => format!("Training of trainers on {subject}"),
            },
            EventKind::CoordinationMeeting => match rng.below(3) {
                0 => format!("National coordination meeting on {subject}, {country}"),
                1 => format!("CT and P/CVE coordination meeting with {by} partners"),
                _ => format!("Donor coordination meeting on {subject}"),
            },
            EventKind::NetworkMeeting | EventKind::BoardMeeting => match network {
                Some(net) => match rng.below(3) {
                    0 => format!("{} working group on {subject}", net.acronym),
                    1 => format!("Extraordinary meeting of the {}", net.acronym),
                    _ => format!("{} thematic meeting on {subject}", net.acronym),
                },
                None => format!("Network meeting on {subject}"),
            },
            EventKind::Meeting => match rng.below(3) {
                0 => format!("Expert meeting on {subject}"),
                1 => format!("Bilateral meeting on {subject}, {country}"),
                _ => format!("{by} steering meeting"),
            },
            EventKind::Other => match rng.below(3) {
                0 => format!("Study visit on {subject} to {}", city.name),
                1 => format!("Launch of the regional project on {subject}"),
                _ => format!("Round table on {subject}"),
            },
        }
    }

    /// One event on `day` in `city`.
    fn event(
        &self,
        day: NaiveDate,
        city: &City,
        kind: Option<EventKind>,
        rng: &mut Rng,
    ) -> Planned {
        use EventKind as K;
        let kind = kind.unwrap_or_else(|| {
            [
                K::Meeting,
                K::CoordinationMeeting,
                K::Conference,
                K::Workshop,
                K::Training,
                K::Forum,
                K::NetworkMeeting,
                K::BoardMeeting,
                K::Other,
            ][rng.weighted(&[20, 12, 12, 18, 12, 5, 8, 3, 10])]
        });
        let network = if matches!(kind, K::NetworkMeeting | K::BoardMeeting) || rng.chance(0.04) {
            Some(&self.graph.networks[rng.below(self.graph.networks.len())])
        } else {
            None
        };
        let length = match kind {
            K::Conference | K::Forum | K::Training => rng.weighted(&[35, 40, 20, 5]),
            _ => rng.weighted(&[75, 20, 5]),
        } as u64;
        let end = day.checked_add_days(Days::new(length)).unwrap_or(day);
        self.planned(kind, day, end, city, network, None, rng)
    }

    #[allow(clippy::too_many_arguments)]
    fn planned(
        &self,
        kind: EventKind,
        day: NaiveDate,
        end: NaiveDate,
        city: &City,
        network: Option<&Net>,
        title: Option<String>,
        rng: &mut Rng,
    ) -> Planned {
        let organisers = self.organisers(rng, network.map(|n| n.coordinator));
        let org = self
            .graph
            .organisations
            .iter()
            .find(|o| o.id == organisers[0].0)
            .unwrap_or(&self.graph.organisations[0]);
        let title = title.unwrap_or_else(|| self.title(kind, city, network, org, rng));
        let participants = self.participants(rng);
        let status = self.status(day, rng);
        let mode = if status == EventStatus::MovedOnline {
            AttendanceMode::Online
        } else if day.year() >= 2020 {
            [
                AttendanceMode::InPerson,
                AttendanceMode::Hybrid,
                AttendanceMode::Online,
            ][rng.weighted(&[70, 20, 10])]
        } else {
            [
                AttendanceMode::InPerson,
                AttendanceMode::Hybrid,
                AttendanceMode::Online,
            ][rng.weighted(&[93, 5, 2])]
        };
        let (start_time, end_time) = self.times(rng);
        let input = EventInput {
            description: self.description(&title, city, &organisers, &participants, rng),
            title,
            slug: None,
            kind,
            status: (status != EventStatus::Scheduled || rng.chance(0.5)).then_some(status),
            start_date: day,
            end_date: (end != day || rng.chance(0.5)).then_some(end),
            start_time,
            end_time,
            timezone: city.zone.to_owned(),
            location: self.location(city, mode, rng),
            attendance_mode: (mode != AttendanceMode::InPerson || rng.chance(0.5)).then_some(mode),
            network_id: network.map(|n| n.slug.clone()),
            series_number: None,
            parent_event_id: None,
            organisers: Vec::new(),
            participants: Vec::new(),
            topics: self.topics(rng, None),
            links: self.links(org, day, rng),
            visibility: if rng.chance(0.05) {
                Some(Visibility::Internal)
            } else if rng.chance(0.3) {
                Some(Visibility::Public)
            } else {
                None
            },
        };
        let mut planned = Planned {
            id: EventId::generate(),
            input,
            slug: None,
            network: network.map(|n| n.id),
            parent: None,
            organisers,
            participants,
            series: false,
        };
        fill_references(&mut planned);
        planned
    }

    fn series_meeting(&self, n: usize, number: i32, day: NaiveDate, rng: &mut Rng) -> Planned {
        let net = &self.graph.networks[n];
        let city = &CITIES[rng.weighted(&self.city_weights)];
        let kind = if net.board {
            EventKind::BoardMeeting
        } else {
            EventKind::NetworkMeeting
        };
        let title = if net.board {
            format!("{} {} Meeting", ordinal(number), net.acronym)
        } else if rng.chance(0.5) {
            format!("{} Meeting of the {}", ordinal(number), net.acronym)
        } else {
            format!(
                "{} Meeting of the {} ({})",
                ordinal(number),
                net.name,
                net.acronym
            )
        };
        let end = day
            .checked_add_days(Days::new(rng.weighted(&[70, 30]) as u64))
            .unwrap_or(day);
        let mut planned = self.planned(kind, day, end, city, Some(net), Some(title), rng);
        planned.input.series_number = Some(number);
        planned.input.topics.truncate(2);
        planned.slug = Some(format!("{}-{number}", net.slug));
        planned.series = true;
        // Series meetings are the network's record: public and held (postponed at worst).
        planned.input.visibility = None;
        if planned.input.status == Some(EventStatus::Cancelled) {
            planned.input.status = Some(EventStatus::Postponed);
        }
        planned
    }

    /// 2–3 back-to-back events in one city: each starts the day after the previous ends.
    fn chain(&self, day: NaiveDate, city: &City, count: usize, rng: &mut Rng) -> Group {
        let mut events = Vec::new();
        let mut start = day;
        let topic = *rng.pick(TOPICS);
        for _ in 0..count {
            let kind = *rng.pick(&[
                EventKind::NetworkMeeting,
                EventKind::CoordinationMeeting,
                EventKind::Meeting,
                EventKind::Workshop,
                EventKind::Conference,
            ]);
            let mut planned = self.event(start, city, Some(kind), rng);
            // Chain members keep to the chain's city even when online.
            let location = planned.input.location.get_or_insert_with(Default::default);
            location.city = Some(city.name.to_owned());
            location.country_code = Some(city.country.to_owned());
            if !planned.input.topics.iter().any(|t| t == topic) {
                planned.input.topics.insert(0, topic.to_owned());
            }
            let end = planned.input.end_date.unwrap_or(start);
            start = end.checked_add_days(Days::new(1)).unwrap_or(end);
            events.push(planned);
        }
        let title = format!(
            "{}, {} {}: back-to-back meetings on {topic}",
            city.name,
            MONTHS[day.month0() as usize],
            day.year()
        );
        Group {
            events,
            chain: Some(title),
        }
    }

    /// A forum and 2–3 of its sessions (`parent_event_id`).
    fn forum_with_sessions(
        &self,
        day: NaiveDate,
        city: &City,
        sessions: usize,
        rng: &mut Rng,
    ) -> Group {
        let forum = self.event(day, city, Some(EventKind::Forum), rng);
        let forum_end = forum.input.end_date.unwrap_or(day);
        let forum_title = forum.input.title.clone();
        let forum_id = forum.id;
        let mut events = vec![forum];
        for i in 0..sessions {
            let session_day = day
                .checked_add_days(Days::new(
                    i as u64 % ((forum_end - day).num_days() as u64 + 1),
                ))
                .unwrap_or(day);
            let title = format!(
                "{} session on {} — {forum_title}",
                ["Opening", "Ministerial", "Closing", "Expert", "Panel"][i % 5],
                rng.pick(SUBJECTS)
            );
            let mut session = self.planned(
                *rng.pick(&[EventKind::Meeting, EventKind::Workshop, EventKind::Other]),
                session_day,
                session_day,
                city,
                None,
                Some(title.chars().take(300).collect()),
                rng,
            );
            session.input.parent_event_id = Some(forum_id.to_string());
            session.parent = Some(forum_id);
            events.push(session);
        }
        Group {
            events,
            chain: None,
        }
    }
}

/// Mirrors the resolved references into the input, as a client would send them.
fn fill_references(planned: &mut Planned) {
    planned.input.organisers = planned
        .organisers
        .iter()
        .map(|(id, role)| OrganiserInput {
            organisation_id: id.to_string(),
            role: *role,
        })
        .collect();
    planned.input.participants = planned
        .participants
        .iter()
        .map(|(person, organisation, role)| ParticipantInput {
            person_id: person.map(|p| p.to_string()),
            organisation_id: organisation.map(|o| o.to_string()),
            role: *role,
        })
        .collect();
}

// ---------------------------------------------------------------------------------------------
// Writing: the columns `store::events` writes, in multi-row INSERTs.

#[derive(Insertable)]
#[diesel(table_name = events, treat_none_as_default_value = false)]
struct EventRow {
    id: EventId,
    slug: String,
    title: String,
    kind: &'static str,
    status: &'static str,
    start_date: NaiveDate,
    end_date: NaiveDate,
    start_time: Option<NaiveTime>,
    end_time: Option<NaiveTime>,
    timezone: String,
    starts_at: Timestamp,
    ends_at: Timestamp,
    venue: Option<String>,
    city: Option<String>,
    city_key: Option<String>,
    country_code: Option<String>,
    address: Option<String>,
    attendance_mode: &'static str,
    network_id: Option<NetworkId>,
    series_number: Option<i32>,
    parent_event_id: Option<EventId>,
    chain_id: Option<ChainId>,
    description: Option<String>,
    topics: String,
    links: String,
    visibility: &'static str,
    search_text: String,
    created_at: Timestamp,
    updated_at: Timestamp,
    version: i32,
}

#[derive(Insertable)]
#[diesel(table_name = event_topics, treat_none_as_default_value = false)]
struct TopicRow {
    event_id: EventId,
    topic_key: String,
    starts_at: Option<Timestamp>,
    ends_at: Option<Timestamp>,
}

#[derive(Insertable)]
#[diesel(table_name = event_organisers, treat_none_as_default_value = false)]
struct OrganiserRow {
    event_id: EventId,
    organisation_id: OrganisationId,
    role: &'static str,
    position: i32,
    starts_at: Option<Timestamp>,
    ends_at: Option<Timestamp>,
}

#[derive(Insertable)]
#[diesel(table_name = event_participants, treat_none_as_default_value = false)]
struct ParticipantRow {
    event_id: EventId,
    position: i32,
    person_id: Option<PersonId>,
    organisation_id: Option<OrganisationId>,
    role: &'static str,
    starts_at: Option<Timestamp>,
    ends_at: Option<Timestamp>,
}

#[derive(Insertable)]
#[diesel(table_name = chains, treat_none_as_default_value = false)]
struct ChainRow {
    id: ChainId,
    slug: String,
    sort_key: String,
    title: String,
    description: Option<String>,
    max_gap_days: i32,
    same_city: bool,
    created_at: Timestamp,
    updated_at: Timestamp,
    version: i32,
}

#[derive(Default)]
struct Batch {
    chains: Vec<ChainRow>,
    events: Vec<EventRow>,
    topics: Vec<TopicRow>,
    organisers: Vec<OrganiserRow>,
    participants: Vec<ParticipantRow>,
}

/// Slugs as `choose_slug` picks them: the one given if free, else the title's, then `-2`, `-3`….
#[derive(Default)]
struct Slugs {
    taken: HashSet<String>,
    next_suffix: HashMap<String, u32>,
}

impl Slugs {
    fn choose(&mut self, given: Option<&str>, title: &str) -> String {
        if let Some(given) = given
            && Slug::parse(given).is_ok()
            && !self.taken.contains(given)
        {
            self.taken.insert(given.to_owned());
            return given.to_owned();
        }
        let base = Slug::from_title(title);
        let mut candidate = base.as_str().to_owned();
        // Every suffix below the remembered one is taken already, so starting there gives the
        // same answer as counting up from 2.
        let mut n = self.next_suffix.get(base.as_str()).copied().unwrap_or(2);
        while self.taken.contains(&candidate) {
            candidate = base.with_suffix(n).into_string();
            n += 1;
        }
        if n > 2 {
            self.next_suffix.insert(base.as_str().to_owned(), n);
        }
        self.taken.insert(candidate.clone());
        candidate
    }
}

struct EventWriter {
    event_slugs: Slugs,
    chain_slugs: Slugs,
    written: usize,
    chained: usize,
    chains: usize,
    series: usize,
    sessions: usize,
    internal: usize,
    cancelled: usize,
}

impl EventWriter {
    fn new(conn: &mut AnyConnection) -> Result<Self, String> {
        let mut event_slugs = Slugs::default();
        let mut chain_slugs = Slugs::default();
        event_slugs.taken = events::table
            .select(events::slug)
            .load::<String>(conn)
            .map_err(|e| e.to_string())?
            .into_iter()
            .collect();
        chain_slugs.taken = chains::table
            .select(chains::slug)
            .load::<String>(conn)
            .map_err(|e| e.to_string())?
            .into_iter()
            .collect();
        Ok(Self {
            event_slugs,
            chain_slugs,
            written: 0,
            chained: 0,
            chains: 0,
            series: 0,
            sessions: 0,
            internal: 0,
            cancelled: 0,
        })
    }

    fn add_group(&mut self, group: Group, batch: &mut Batch) -> Result<(), String> {
        let now = Timestamp::now();
        let mut valid_events = Vec::new();
        for planned in group.events {
            let valid = planned.input.clone().validate().map_err(|e| {
                format!(
                    "generated event {:?} is invalid: {e:?}",
                    planned.input.title
                )
            })?;
            valid_events.push((planned, valid));
        }
        let chain_id = match &group.chain {
            Some(title) => {
                let members: Vec<ChainMember> = valid_events
                    .iter()
                    .map(|(p, v)| ChainMember {
                        id: p.id.to_string(),
                        slug: p.id.to_string(),
                        starts_at: v.starts_at,
                        ends_at: v.ends_at,
                        city: v.location.city.clone(),
                    })
                    .collect();
                let violations = check_chain(title, 1, true, &members);
                if !violations.is_empty() {
                    return Err(format!(
                        "generated chain {title:?} breaks the rules: {violations:?}"
                    ));
                }
                let id = ChainId::generate();
                batch.chains.push(ChainRow {
                    id,
                    slug: self.chain_slugs.choose(None, title),
                    sort_key: fold(title),
                    title: title.clone(),
                    description: Some(format!(
                        "{} events organised back to back in one city.",
                        members.len()
                    )),
                    max_gap_days: 1,
                    same_city: true,
                    created_at: now,
                    updated_at: now,
                    version: 1,
                });
                self.chains += 1;
                self.chained += members.len();
                Some(id)
            }
            None => None,
        };
        for (planned, valid) in valid_events {
            self.push_event(planned, &valid, chain_id, now, batch);
        }
        Ok(())
    }

    fn push_event(
        &mut self,
        planned: Planned,
        event: &ValidEvent,
        chain_id: Option<ChainId>,
        now: Timestamp,
        batch: &mut Batch,
    ) {
        let id = planned.id;
        let slug = self
            .event_slugs
            .choose(planned.slug.as_deref(), &event.title);
        for topic_key in event.topic_keys() {
            batch.topics.push(TopicRow {
                event_id: id,
                topic_key,
                starts_at: Some(Timestamp::from(event.starts_at)),
                ends_at: Some(Timestamp::from(event.ends_at)),
            });
        }
        for (position, (organisation_id, role)) in planned.organisers.iter().enumerate() {
            batch.organisers.push(OrganiserRow {
                event_id: id,
                organisation_id: *organisation_id,
                role: role.as_str(),
                position: position as i32,
                starts_at: Some(Timestamp::from(event.starts_at)),
                ends_at: Some(Timestamp::from(event.ends_at)),
            });
        }
        for (position, (person_id, organisation_id, role)) in
            planned.participants.iter().enumerate()
        {
            batch.participants.push(ParticipantRow {
                event_id: id,
                position: position as i32,
                person_id: *person_id,
                organisation_id: *organisation_id,
                role: role.as_str(),
                starts_at: Some(Timestamp::from(event.starts_at)),
                ends_at: Some(Timestamp::from(event.ends_at)),
            });
        }
        self.written += 1;
        self.series += usize::from(planned.series);
        self.sessions += usize::from(planned.parent.is_some());
        self.internal += usize::from(event.visibility == Visibility::Internal);
        self.cancelled += usize::from(event.status == EventStatus::Cancelled);
        // As `store::events::columns`; a chain member was taken in by its chain (version 2).
        batch.events.push(EventRow {
            id,
            slug,
            title: event.title.clone(),
            kind: event.kind.as_str(),
            status: event.status.as_str(),
            start_date: event.start_date,
            end_date: event.end_date,
            start_time: event.start_time.map(LocalTime::get),
            end_time: event.end_time.map(LocalTime::get),
            timezone: event.timezone.name().to_owned(),
            starts_at: Timestamp::from(event.starts_at),
            ends_at: Timestamp::from(event.ends_at),
            venue: event.location.venue.clone(),
            city: event.location.city.clone(),
            city_key: event.city_key(),
            country_code: event.location.country_code.as_ref().map(|c| c.to_string()),
            address: event.location.address.clone(),
            attendance_mode: event.attendance_mode.as_str(),
            network_id: planned.network,
            series_number: event.series_number,
            parent_event_id: planned.parent,
            chain_id,
            description: event.description.clone(),
            topics: serde_json::to_string(&event.topics).unwrap_or_else(|_| "[]".into()),
            links: serde_json::to_string(&event.links).unwrap_or_else(|_| "[]".into()),
            visibility: event.visibility.as_str(),
            search_text: event.search_text(),
            created_at: now,
            updated_at: now,
            version: if chain_id.is_some() { 2 } else { 1 },
        });
    }

    /// Writes `batch` in one transaction.
    fn commit(&mut self, conn: &mut AnyConnection, batch: Batch) -> Result<(), String> {
        write_transaction(conn, |conn| {
            macro_rules! insert_all {
                ($c:expr) => {{
                    // Bind-parameter limits: SQLite 32766, PostgreSQL 65535 per statement.
                    for rows in batch.chains.chunks(2_000) {
                        diesel::insert_into(chains::table)
                            .values(rows)
                            .execute($c)?;
                    }
                    for rows in batch.events.chunks(1_000) {
                        diesel::insert_into(events::table)
                            .values(rows)
                            .execute($c)?;
                    }
                    for rows in batch.topics.chunks(8_000) {
                        diesel::insert_into(event_topics::table)
                            .values(rows)
                            .execute($c)?;
                    }
                    for rows in batch.organisers.chunks(5_000) {
                        diesel::insert_into(event_organisers::table)
                            .values(rows)
                            .execute($c)?;
                    }
                    for rows in batch.participants.chunks(4_000) {
                        diesel::insert_into(event_participants::table)
                            .values(rows)
                            .execute($c)?;
                    }
                }};
            }
            match conn {
                AnyConnection::Sqlite(c) => insert_all!(c),
                AnyConnection::Postgresql(c) => insert_all!(c),
            }
            Ok::<_, ApiError>(())
        })
        .map_err(|e| e.to_string())
    }
}
