//! The words of a planned event: its title and description.

use meeting_registry::domain::enums::{EventKind, OrganiserRole, ParticipantRole};
use meeting_registry::ids::OrganisationId;

use crate::graph::{Net, Org};
use crate::planner::{Participant, Planner};
use crate::rng::Rng;
use crate::vocabulary::{AUDIENCES, COUNTRY_NAMES, City, SUBJECTS};

impl Planner<'_> {
    pub(crate) fn description(
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

    pub(crate) fn title(
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
}
