//! The site's users: people from many scripts, some without a visible e-mail address, some
//! deleted ("Former user"), plus the automation app user real sites are full of.

use serde_json::{Value, json};

use crate::dataset::GENERATED_SITE;
use crate::rng::Rng;

/// Account id of Atlassian's automation user, which real sites show as an author everywhere.
const AUTOMATION_ACCOUNT: &str = "557058:f58131cb-b67d-43c7-b30d-6b58d40bd077";

const PEOPLE: [&str; 36] = [
    "Mia Krystof",
    "Ana Lima",
    "José Álvarez",
    "Zoë Ångström",
    "李娜",
    "佐藤 健",
    "محمد الأحمد",
    "יעל כהן",
    "Ngozi Okafor",
    "Søren Madsen",
    "Priya Raman",
    "Liam O'Brien",
    "Олена Коваль",
    "Kwame Mensah",
    "Hannah Schmidt",
    "Nguyễn Văn An",
    "Fatima Zahra",
    "Chloé Dubois",
    "Mateus Silva",
    "Emily Chen",
    "Björk Guðmundsdóttir",
    "Raj Patel",
    "Sakura Tanaka",
    "Lucas Martin",
    "Aroha Ngata",
    "Diego Fernández",
    "Ingrid Johansen",
    "Tomáš Novák",
    "Amara Eze",
    "Oliver Smith",
    "Yuki Mori",
    "Leila Haddad",
    "Pablo Ruiz",
    "Sven Berg",
    "Ava Thompson",
    "Kai \"KJ\" Jensen",
];

const TIME_ZONES: [&str; 6] = [
    "Europe/Berlin",
    "America/Los_Angeles",
    "Asia/Tokyo",
    "Australia/Sydney",
    "Africa/Lagos",
    "UTC",
];

pub(crate) struct User {
    pub(crate) value: Value,
    pub(crate) account_id: String,
    pub(crate) name: String,
}

/// `xxxxxxxx-xxxx-4xxx-xxxx-xxxxxxxxxxxx` from two hashes.
pub(crate) fn uuid(a: u64, b: u64) -> String {
    format!(
        "{:08x}-{:04x}-4{:03x}-{:04x}-{:012x}",
        a >> 32,
        (a >> 16) & 0xffff,
        a & 0xfff,
        0x8000 | ((b >> 48) & 0x3fff),
        b & 0xffff_ffff_ffff
    )
}

pub(crate) fn users(seed: u64) -> Vec<User> {
    let mut users: Vec<User> = PEOPLE
        .iter()
        .enumerate()
        .map(|(i, name)| human(seed, i, name))
        .collect();
    users.push(User {
        value: user_value(
            AUTOMATION_ACCOUNT,
            "Automation for Jira",
            None,
            true,
            "UTC",
            "app",
            "AJ",
        ),
        account_id: AUTOMATION_ACCOUNT.to_owned(),
        name: "Automation for Jira".to_owned(),
    });
    users
}

fn human(seed: u64, i: usize, name: &str) -> User {
    let mut rng = Rng::new(&[seed, 0x05E5, i as u64]);
    let (a, b) = (rng.next_u64(), rng.next_u64());
    // two id styles coexist on real sites: 24 hex digits and the older "557058:<uuid>"
    let account_id = if i % 7 == 3 {
        format!("557058:{}", uuid(a, b))
    } else {
        format!("{:012x}{:012x}", a & 0xffff_ffff_ffff, b & 0xffff_ffff_ffff)
    };
    let deleted = i % 11 == 10;
    let zone = TIME_ZONES[i % TIME_ZONES.len()];
    let value = if deleted {
        user_value(
            &account_id,
            "Former user",
            None,
            false,
            "Etc/GMT",
            "atlassian",
            "FU",
        )
    } else {
        // some people hide their address (profile visibility), so the field is absent
        let email = (i % 4 != 3).then(|| email_for(i, name));
        // avatar service initials are Latin letters; other scripts get the generic "U"
        let initials: String = name
            .split_whitespace()
            .filter_map(|w| w.chars().next().map(fold))
            .filter(char::is_ascii_alphabetic)
            .take(2)
            .collect::<String>()
            .to_ascii_uppercase();
        let initials = if initials.is_empty() {
            "U".to_owned()
        } else {
            initials
        };
        user_value(
            &account_id,
            name,
            email.as_deref(),
            true,
            zone,
            "atlassian",
            &initials,
        )
    };
    User {
        name: value["displayName"].as_str().unwrap_or(name).to_owned(),
        value,
        account_id,
    }
}

fn email_for(i: usize, name: &str) -> String {
    let slug: Vec<String> = name
        .split_whitespace()
        .map(|w| {
            w.chars()
                .map(fold)
                .filter(char::is_ascii_alphabetic)
                .map(|c| c.to_ascii_lowercase())
                .collect::<String>()
        })
        .filter(|w| !w.is_empty())
        .collect();
    if slug.is_empty() {
        format!("user{i}@example.com")
    } else {
        format!("{}@example.com", slug.join("."))
    }
}

/// Latin letters with diacritics to their base letter, for e-mail addresses and initials.
fn fold(c: char) -> char {
    match c {
        'á' | 'à' | 'â' | 'ä' | 'å' | 'ã' => 'a',
        'Å' | 'Á' => 'A',
        'é' | 'è' | 'ê' | 'ë' => 'e',
        'í' | 'ì' | 'î' | 'ï' => 'i',
        'ó' | 'ò' | 'ô' | 'ö' | 'ø' | 'ð' => 'o',
        'ú' | 'ù' | 'û' | 'ü' => 'u',
        'ñ' => 'n',
        'š' => 's',
        'Š' => 'S',
        'ễ' => 'e',
        'ă' => 'a',
        'ý' => 'y',
        other => other,
    }
}

fn user_value(
    account_id: &str,
    name: &str,
    email: Option<&str>,
    active: bool,
    zone: &str,
    account_type: &str,
    initials: &str,
) -> Value {
    let avatar = |size: u32| {
        format!(
            "https://avatar-management--avatars.us-west-2.prod.public.atl-paas.net/initials/{initials}-5.png?size={size}&s={size}"
        )
    };
    let mut user = json!({
        "self": format!("{GENERATED_SITE}/rest/api/3/user?accountId={account_id}"),
        "accountId": account_id,
        "avatarUrls": {
            "48x48": avatar(48),
            "24x24": avatar(24),
            "16x16": avatar(16),
            "32x32": avatar(32),
        },
        "displayName": name,
        "active": active,
        "timeZone": zone,
        "accountType": account_type,
    });
    if let (Some(email), Some(map)) = (email, user.as_object_mut()) {
        map.insert("emailAddress".into(), email.into());
    }
    user
}
