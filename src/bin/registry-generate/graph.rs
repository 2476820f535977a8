//! The graph events refer to: organisations, people, networks and their members, created
//! through the store's own `create` functions, so they are exactly what the API would write.

use chrono::{Days, NaiveDate};
use meeting_registry::db::AnyConnection;
use meeting_registry::domain::Slug;
use meeting_registry::domain::enums::{MembershipRole, ProgrammeKind, ProgrammeRole};
use meeting_registry::domain::organisation::{
    MembershipInput, NetworkInput, OrganisationInput, PersonInput,
};
use meeting_registry::domain::programme::{ProgrammeInput, ProgrammeOrganisationInput};
use meeting_registry::error::{ApiError, FieldError};
use meeting_registry::ids::{NetworkId, OrganisationId, PersonId, ProgrammeId};
use meeting_registry::store::memberships::add_member;
use meeting_registry::store::networks::Networks;
use meeting_registry::store::organisations::Organisations;
use meeting_registry::store::people::People;
use meeting_registry::store::programmes::Programmes;
use meeting_registry::store::resource::{Resource, TopLevel};

use crate::Cli;
use crate::organisations::org_specs;
use crate::rng::Rng;
use crate::vocabulary::{COUNTRY_NAMES, FIRST_NAMES, NETWORKS, POSITIONS, SUBJECTS, SURNAMES};

/// An organisation created, with what events need of it.
pub struct Org {
    pub id: OrganisationId,
    pub name: String,
    pub acronym: Option<String>,
    pub domain: String,
}

/// A network created, with what its series meetings need.
pub struct Net {
    pub id: NetworkId,
    pub slug: String,
    pub acronym: String,
    pub name: String,
    pub board: bool,
    pub established: NaiveDate,
    /// The index of its coordinator in [`Graph::organisations`].
    pub coordinator: usize,
}

/// A programme created, with the period its events fall in.
pub struct Prog {
    pub id: ProgrammeId,
    pub start: NaiveDate,
    pub end: NaiveDate,
}

/// What events refer to: everything but the events.
pub struct Graph {
    pub organisations: Vec<Org>,
    pub people: Vec<(PersonId, String)>,
    pub networks: Vec<Net>,
    pub memberships: usize,
    pub programmes: Vec<Prog>,
}

pub fn build_graph(conn: &mut AnyConnection, cli: &Cli, rng: &mut Rng) -> Result<Graph, ApiError> {
    let organisations = organisations(conn, cli.organisations, rng)?;
    let people = people(conn, cli.people, &organisations, rng)?;
    let (networks, memberships) = networks(conn, cli.networks, &organisations, &people, rng)?;
    // Programmes draw on their own sequence, so the rest of the data stays what it was for a
    // given seed.
    let mut programme_rng = Rng::new(cli.seed ^ PROGRAMME_SEED);
    let programmes = programmes(conn, cli.programmes, &organisations, &mut programme_rng)?;
    Ok(Graph {
        organisations,
        people,
        networks,
        memberships,
        programmes,
    })
}

/// Mixed into the seed of the programmes' own sequence.
pub const PROGRAMME_SEED: u64 = 0x5052_4f47;

/// Funding programmes in seven-year cycles from 2007, each with projects and actions of two to
/// four years inside its period; funded, coordinated and implemented by organisations of the
/// graph.
fn programmes(
    conn: &mut AnyConnection,
    count: usize,
    organisations: &[Org],
    rng: &mut Rng,
) -> Result<Vec<Prog>, ApiError> {
    let mut programmes: Vec<Prog> = Vec::new();
    let mut parent: Option<(String, NaiveDate, NaiveDate)> = None;
    for i in 0..count {
        // One programme, then three parts of it.
        let top = i % 4 == 0;
        let (kind, title, start, months, parent_id) = if top {
            let cycle = rng.below(3) as i32;
            let start = NaiveDate::from_ymd_opt(2007 + 7 * cycle, 1, 1).unwrap_or_default();
            let title = format!(
                "{} Regional Programme on {} {}",
                ["IPA", "Horizontal Facility", "EU4", "Regional"][rng.below(4)],
                rng.pick(SUBJECTS),
                2007 + 7 * cycle
            );
            (ProgrammeKind::Programme, title, start, 84, None)
        } else {
            let (parent_key, parent_start, parent_end) = parent.clone().unwrap_or_default();
            let months = rng.range(24, 48);
            let span = (parent_end - parent_start).num_days() - 30 * months as i64;
            let start = parent_start
                .checked_add_days(Days::new(rng.below(span.max(1) as usize) as u64))
                .unwrap_or(parent_start);
            let kind = [ProgrammeKind::Project, ProgrammeKind::Action][rng.below(2)];
            let title = format!(
                "Support to {} in the Western Balkans ({})",
                rng.pick(SUBJECTS),
                i + 1
            );
            (kind, title, start, months, Some(parent_key))
        };
        let mut parts = vec![ProgrammeOrganisationInput {
            organisation_id: organisations[rng.below(organisations.len())].id.to_string(),
            role: if top {
                ProgrammeRole::Funder
            } else {
                ProgrammeRole::Coordinator
            },
            since: None,
            until: None,
        }];
        let partners = rng.range(1, 3);
        for partner in rng.distinct(organisations.len(), partners) {
            parts.push(ProgrammeOrganisationInput {
                organisation_id: organisations[partner].id.to_string(),
                role: ProgrammeRole::ImplementingPartner,
                since: None,
                until: None,
            });
        }
        parts.dedup_by(|a, b| a.organisation_id == b.organisation_id && a.role == b.role);
        let input = ProgrammeInput {
            title,
            slug: None,
            kind,
            status: None,
            funding_instrument: top.then(|| format!("IPA {}", start.format("%Y"))),
            parent_id,
            start_date: Some(start),
            end_date: None,
            duration_months: Some(months as i32),
            description: None,
            organisations: parts,
        };
        let valid = Programmes::validate(input).map_err(|e| invalid("programme", e))?;
        let end = valid.period.effective_end().unwrap_or(start);
        let id = Programmes::create(conn, &valid)?;
        if top {
            parent = Some((id.to_string(), start, end));
        }
        programmes.push(Prog { id, start, end });
    }
    Ok(programmes)
}

fn invalid(what: &str, e: Vec<FieldError>) -> ApiError {
    ApiError::internal(format!("generated {what} is invalid: {e:?}"))
}

fn organisations(
    conn: &mut AnyConnection,
    count: usize,
    rng: &mut Rng,
) -> Result<Vec<Org>, ApiError> {
    let mut organisations: Vec<Org> = Vec::new();
    for spec in org_specs(count, rng) {
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
    Ok(organisations)
}

fn people(
    conn: &mut AnyConnection,
    count: usize,
    organisations: &[Org],
    rng: &mut Rng,
) -> Result<Vec<(PersonId, String)>, ApiError> {
    let mut people = Vec::new();
    for i in 0..count {
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
    Ok(people)
}

/// The networks and the number of memberships made.
fn networks(
    conn: &mut AnyConnection,
    count: usize,
    organisations: &[Org],
    people: &[(PersonId, String)],
    rng: &mut Rng,
) -> Result<(Vec<Net>, usize), ApiError> {
    let mut networks = Vec::new();
    let mut memberships = 0;
    for i in 0..count {
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
            cadence: None,
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
    Ok((networks, memberships))
}
