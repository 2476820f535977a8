//! The organisations a registry is filled with: a fixed list of EU bodies, international and
//! regional organisations, governments and their ministries, embassies and universities, then
//! NGOs made up until the wanted number is reached.

use meeting_registry::domain::enums::OrganisationKind;

use crate::rng::Rng;
use crate::vocabulary::{CITIES, COUNTRY_NAMES};

/// An organisation to create.
pub struct OrgSpec {
    pub name: String,
    pub acronym: Option<String>,
    pub kind: OrganisationKind,
    pub country: Option<&'static str>,
    /// The index of its parent in the list (always an earlier one).
    pub parent: Option<usize>,
    pub website: Option<String>,
}

/// A fixed organisation: name, acronym, kind, country, the name of its parent (listed
/// before it, or an EU body for the delegations), and the host of its website.
type Fixed = (
    &'static str,
    Option<&'static str>,
    OrganisationKind,
    Option<&'static str>,
    Option<&'static str>,
    Option<&'static str>,
);

use OrganisationKind as K;

const EU: &str = "European Union";
const EC: &str = "European Commission";
const EEAS: &str = "European External Action Service";

/// Data, one organisation a line: a table reads better than the calls it replaces.
#[rustfmt::skip]
const EU_BODIES: &[Fixed] = &[
    (EU, Some("EU"), K::EuInstitution, None, None, Some("european-union.europa.eu")),
    (EC, None, K::EuInstitution, None, Some(EU), Some("commission.europa.eu")),
    ("Directorate-General for Neighbourhood and Enlargement Negotiations", Some("DG NEAR"), K::EuInstitution, None, Some(EC), Some("neighbourhood-enlargement.ec.europa.eu")),
    ("Directorate-General for Migration and Home Affairs", Some("DG HOME"), K::EuInstitution, None, Some(EC), Some("home-affairs.ec.europa.eu")),
    ("Directorate-General for Justice and Consumers", Some("DG JUST"), K::EuInstitution, None, Some(EC), None),
    (EEAS, Some("EEAS"), K::EuInstitution, None, Some(EU), Some("www.eeas.europa.eu")),
    ("Council of the European Union", None, K::EuInstitution, None, Some(EU), None),
    ("European Parliament", Some("EP"), K::EuInstitution, None, Some(EU), None),
    ("European Union Agency for Law Enforcement Cooperation", Some("Europol"), K::EuInstitution, Some("NL"), Some(EU), Some("www.europol.europa.eu")),
    ("European Union Agency for Criminal Justice Cooperation", Some("Eurojust"), K::EuInstitution, Some("NL"), Some(EU), None),
    ("European Border and Coast Guard Agency", Some("Frontex"), K::EuInstitution, Some("PL"), Some(EU), None),
    ("European Union Agency for Law Enforcement Training", Some("CEPOL"), K::EuInstitution, Some("HU"), Some(EU), None),
];

/// Data, as [`EU_BODIES`]; written after the EU delegations.
#[rustfmt::skip]
const INTERNATIONAL: &[Fixed] = &[
    ("Council of Europe", Some("CoE"), K::InternationalOrganisation, Some("FR"), None, Some("www.coe.int")),
    ("Horizontal Facility for the Western Balkans and Türkiye", Some("HF II"), K::Programme, None, Some("Council of Europe"), None),
    ("Organization for Security and Co-operation in Europe", Some("OSCE"), K::InternationalOrganisation, None, None, None),
    ("United Nations Development Programme", Some("UNDP"), K::InternationalOrganisation, None, None, None),
    ("United Nations Office on Drugs and Crime", Some("UNODC"), K::InternationalOrganisation, None, None, None),
    ("International Organization for Migration", Some("IOM"), K::InternationalOrganisation, None, None, None),
    ("United Nations Children's Fund", Some("UNICEF"), K::InternationalOrganisation, None, None, None),
    ("UN Women", Some("UN Women"), K::InternationalOrganisation, None, None, None),
    ("International Centre for Migration Policy Development", Some("ICMPD"), K::InternationalOrganisation, None, None, None),
    ("North Atlantic Treaty Organization", Some("NATO"), K::InternationalOrganisation, None, None, None),
    ("Global Counterterrorism Forum", Some("GCTF"), K::InternationalOrganisation, None, None, None),
    ("Global Community Engagement and Resilience Fund", Some("GCERF"), K::InternationalOrganisation, None, None, None),
    ("Regional Cooperation Council", Some("RCC"), K::RegionalOrganisation, Some("BA"), None, None),
    ("Regional School of Public Administration", Some("ReSPA"), K::RegionalOrganisation, Some("ME"), None, None),
    ("Migration, Asylum, Refugees Regional Initiative", Some("MARRI"), K::RegionalOrganisation, Some("MK"), None, None),
    ("Regional Arms Control Verification and Implementation Assistance Centre", Some("RACVIAC"), K::RegionalOrganisation, Some("HR"), None, None),
    ("Southeast European Law Enforcement Center", Some("SELEC"), K::RegionalOrganisation, Some("RO"), None, None),
    ("Regional Youth Cooperation Office", Some("RYCO"), K::RegionalOrganisation, Some("AL"), None, None),
    ("Western Balkans Fund", Some("WBF"), K::RegionalOrganisation, Some("AL"), None, None),
    ("Police Cooperation Convention for Southeast Europe Secretariat", Some("PCC SEE"), K::RegionalOrganisation, Some("SI"), None, None),
    ("Integrative Internal Security Governance", Some("IISG"), K::Programme, None, None, Some("wb-iisg.com")),
    ("IISG Support Group", None, K::Programme, None, Some("Integrative Internal Security Governance"), None),
];

const MINISTRIES: [&str; 6] = [
    "Interior",
    "Justice",
    "Foreign Affairs",
    "Education",
    "Finance",
    "Labour and Social Policy",
];

const DONORS: [(&str, &str); 10] = [
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

const UNIVERSITIES: [(&str, &str); 10] = [
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

const NGO_WORDS: [&str; 6] = [
    "Centre for",
    "Institute for",
    "Foundation for",
    "Initiative for",
    "Forum for",
    "Association for",
];

const NGO_SUBJECTS: [&str; 15] = [
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

#[derive(Default)]
struct Specs(Vec<OrgSpec>);

impl Specs {
    /// Adds one; its index.
    fn add(
        &mut self,
        name: &str,
        acronym: Option<&str>,
        kind: OrganisationKind,
        country: Option<&'static str>,
        parent: Option<usize>,
        site: Option<&str>,
    ) -> usize {
        self.0.push(OrgSpec {
            name: name.to_owned(),
            acronym: acronym.map(str::to_owned),
            kind,
            country,
            parent,
            website: site.map(|s| format!("https://{s}/")),
        });
        self.0.len() - 1
    }

    fn index_of(&self, name: &str) -> Option<usize> {
        self.0.iter().position(|spec| spec.name == name)
    }

    fn add_fixed(&mut self, table: &[Fixed]) {
        for &(name, acronym, kind, country, parent, site) in table {
            let parent = parent.and_then(|p| self.index_of(p));
            self.add(name, acronym, kind, country, parent, site);
        }
    }
}

/// `target` organisations (at least one).
pub fn org_specs(target: usize, rng: &mut Rng) -> Vec<OrgSpec> {
    let mut specs = Specs::default();
    specs.add_fixed(EU_BODIES);
    let eeas = specs.index_of(EEAS);
    for (code, country) in COUNTRY_NAMES {
        let name = format!("EU Delegation to {country}");
        specs.add(&name, None, K::EuInstitution, Some(*code), eeas, None);
    }
    specs.add_fixed(INTERNATIONAL);
    for (code, country) in COUNTRY_NAMES {
        let government = Some(specs.add(
            &format!("Government of {country}"),
            None,
            K::Government,
            Some(*code),
            None,
            None,
        ));
        for ministry in MINISTRIES {
            let name = format!("Ministry of {ministry} of {country}");
            specs.add(&name, None, K::Ministry, Some(*code), government, None);
        }
        let name = format!("Office of the National P-CVE Coordinator of {country}");
        specs.add(&name, None, K::Government, Some(*code), government, None);
        let name = format!("Prison Administration of {country}");
        specs.add(&name, None, K::Government, Some(*code), government, None);
    }
    for (code, donor) in DONORS {
        let capital = rng.pick(COUNTRY_NAMES).1;
        let name = format!("Embassy of {donor} in {capital}");
        specs.add(&name, None, K::Embassy, Some(code), None, None);
    }
    for (name, code) in UNIVERSITIES {
        specs.add(name, None, K::Academic, Some(code), None, None);
    }
    let mut n = 0;
    while specs.0.len() < target {
        let (code, _) = COUNTRY_NAMES[n % COUNTRY_NAMES.len()];
        let word = NGO_WORDS[(n / COUNTRY_NAMES.len()) % NGO_WORDS.len()];
        let subject = NGO_SUBJECTS[(n * 7 + n / 11) % NGO_SUBJECTS.len()];
        let city = CITIES
            .iter()
            .find(|c| c.country == code)
            .map(|c| c.name)
            .unwrap_or("");
        let kind = if n % 9 == 8 { K::Other } else { K::Ngo };
        let name = format!("{word} {subject} {city}");
        specs.add(&name, None, kind, Some(code), None, None);
        n += 1;
    }
    let mut specs = specs.0;
    specs.truncate(target.max(1));
    specs
}
