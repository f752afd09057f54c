"""The demo organisation's posts: a few thousand posts, comments (with replies), reactions,
polls with votes, company and community announcements (must-reads with their
acknowledgements, one to an org unit, one to a site), hashtags, mentions and about forty
files, in French and in English, spread over the last DAYS days.

Written by the people who may write there (access.may_publish): a community's writers,
its owners and animators for its announcements, employees on their profile, the
communications persona for company announcements. Texts come from the phrase banks
below, by the community's kind and topic (sites, trades, practices, projects, customers,
help, the board), filled with Faker's companies and first names, the departments'
projects and skills (essaim.demo.KNOWLEDGE), dates, figures and mentions of colleagues
who read the post, written as the composer writes them (``@**Name|id**``).

Everything is written in bulk and rendered once (content.markdown.render_with_refs, with
a resolver of the known people), counters set from the rows written; no real-time event
is emitted. Files go through content.files.store_upload, as uploads do. The same seed
gives the same texts; dates are relative to now. ``build_posts`` is called by
essaim.demo.build_organisation, in its transaction.
"""

from __future__ import annotations

import io
import math
import random
import string
import unicodedata
import zlib
from collections import Counter, defaultdict
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

from django.db import connection
from django.db.models import Model
from django.utils import timezone
from faker import Faker
from PIL import Image, ImageDraw

from essaim import bulk
from essaim.accounts.models import Role as GlobalRole
from essaim.accounts.models import User, UserKind, UserRole
from essaim.communities.models import RUNNERS, WRITERS, Community, Kind, Membership, Visibility
from essaim.directory.models import OrgUnit, Profile, Site

from . import files as content_files
from .markdown import MentionKey, Person, render_with_refs
from .models import (
    Attachment,
    Comment,
    Hashtag,
    Mention,
    Poll,
    PollOption,
    PollVote,
    Post,
    PostKind,
    PostState,
    Reaction,
    ReactionKind,
)

DAYS = 60  # posts are spread over the last DAYS days
POSTS_PER_PERSON = 15  # 3,000 posts for the default 200 people …
POSTS_MAX = 5000  # … and no more than this for large organisations (at scale 1)
FILES = 40  # at scale 1 for 3,000 posts; fewer for fewer posts
ENGLISH_COMMUNITIES = {"International customers", "Accessibility champions"}

# --- Phrase banks --------------------------------------------------------------------------
# Slots: {person} {person2} (mentions of colleagues who read the post), {date} (a day to
# come), {day}, {site}, {team} (the community), {project}, {skill}, {customer}, {first}
# (a newcomer), {product}, {room}, {room2}, {n} {n2} {small} {pct} {gain} (figures), {week},
# {risk}, {decision}, {event}, {tip}.

REGION = {
    "fr": (
        "🍽️ Le restaurant d'entreprise de {site} passe aux horaires d'été à partir du {date} : "
        "service de 11h30 à 14h. Pensez à réserver pour les groupes de plus de 8 personnes.",
        "Rappel : exercice d'évacuation incendie sur le site de {site} le {date} en fin de "
        "matinée. Merci de suivre les consignes des guides-files. #sécurité",
        "Les travaux du parking visiteurs démarrent le {date}. Pendant {small} semaines, merci de "
        "vous garer sur le parking P2. Désolés pour la gêne !",
        "Bienvenue à {first} qui rejoint l'équipe de {site} cette semaine 👋 N'hésitez pas à "
        "passer dire bonjour au deuxième étage.",
        "Afterwork du site le {date} à partir de 18h sur la terrasse ! {person} s'occupe des "
        "boissons, apportez vos spécialités. #afterwork",
        "Qui serait partant pour un covoiturage depuis le centre de {site} ? Je fais le "
        "trajet tous les jours, départ vers 8h. #covoiturage",
        "La salle {room} est fermée le {date} pour l'installation du nouvel écran de "
        "visioconférence. Les réservations ont été déplacées en salle {room2}.",
        "Collecte solidaire : jusqu'au {date}, on récupère vêtements chauds et jouets à "
        "l'accueil du site. Merci d'avance ❤️ #solidarité",
        "Le don du sang revient à {site} le {date}. {n2} créneaux sont ouverts, inscription "
        "auprès de l'accueil. #solidarité",
        "Coupure réseau programmée le {date} entre 12h et 13h : maintenance des bornes wifi du "
        "bâtiment B.",
        "Les photos de la journée portes ouvertes de {site} sont en ligne 📸 Merci aux "
        "{n2} familles venues découvrir nos ateliers !",
        "Nouveau : des casiers connectés sont installés près de l'accueil pour les colis. "
        "Le mode d'emploi est affiché à côté.",
    ),
    "en": (
        "The canteen at {site} switches to summer hours from {date}: lunch is served from "
        "11:30 to 14:00.",
        "Fire drill at the {site} site on {date}, late morning. Please follow the floor "
        "wardens. #safety",
        "Please welcome {first}, who joins us at {site} this week 👋",
        "Site afterwork on {date} from 6 pm on the terrace! {person} is sorting out drinks. "
        "#afterwork",
        "Anyone up for carpooling from {site} city centre? I drive in every day around 8 am. "
        "#carpooling",
        "Photos of the {site} open day are online 📸 Thanks to the {n2} families who came "
        "to visit the workshops!",
    ),
}
TRADE = {
    "fr": (
        "**Point d'avancement {project}** : {pct} % des lots sont livrés. Reste à finaliser "
        "la recette avec {person} d'ici le {date}.\n\n- planning : tenu\n- budget : conforme\n"
        "- point d'attention : disponibilité des équipes terrain",
        "Retour d'expérience « {skill} » : après {small} mois d'utilisation, l'équipe gagne "
        "environ {small} heures par semaine. Je peux faire une démo à ceux que ça intéresse.",
        "Quelqu'un a-t-il un modèle de cahier des charges pour {project} ? Nous démarrons la "
        "phase de cadrage le {date}.",
        "Bravo à toute l'équipe pour la livraison de {project} ! 🎉 Merci en particulier à "
        "{person} et {person2} pour leur engagement ces dernières semaines.",
        "Nous recrutons : un poste s'ouvre dans l'équipe, profil {skill} confirmé. La "
        "cooptation est ouverte, parlez-en autour de vous ! #recrutement",
        "Compte rendu de la réunion d'équipe : priorités du trimestre validées, point hebdo "
        "déplacé au {day} matin, formation {skill} à planifier avant le {date}.",
        "Les slides de la présentation de {person} (« {skill} ») sont en pièce jointe pour "
        "ceux qui n'ont pas pu venir à la réunion mensuelle.",
        "Besoin d'aide : on cherche un regard expert en « {skill} » pour relire notre approche "
        "sur {project} avant le comité du {date}. Une heure suffirait !",
        "Les indicateurs du mois sont en ligne : {pct} % d'objectifs atteints, en progrès "
        "pour le troisième mois consécutif 📈",
        "Petit rappel : les demandes de formation {skill} pour l'an prochain sont à "
        "transmettre avant le {date}.",
    ),
    "en": (
        "**{project} status update**: {pct}% of the work packages are delivered. Acceptance "
        "testing with {person} by {date}.",
        "Lessons learned from {skill}: after {small} months the team saves about {small} "
        "hours a week. Happy to run a demo.",
        "Congratulations to the whole team on delivering {project}! 🎉 Special thanks to {person}.",
        "Does anyone have a good template for a {project} kick-off? We start scoping on {date}.",
        "This month's figures are out: {pct}% of our targets reached, up for the third month "
        "in a row 📈",
    ),
}
PRACTICE = {
    "fr": (
        "💡 Astuce du jour : {tip}",
        "Question aux experts : comment gérez-vous {skill} dans vos équipes ? On hésite entre "
        "deux approches et j'aimerais vos retours.",
        "Atelier découverte sur {skill} le {date} de 12h30 à 13h30, en salle {room} et en visio. "
        "Inscriptions en commentaire 👇",
        "Retour d'expérience : on a mis en place {skill} sur notre périmètre il y a {small} "
        "mois. Résultat : {gain} % de temps gagné sur les tâches répétitives.",
        "Merci à {person} pour la session d'hier sur {skill}, super clair ! Les supports "
        "sont en pièce jointe.",
        "Je cherche des volontaires pour un pilote sur {skill} dans un "
        "périmètre restreint. Qui est partant ?",
        "Veille de la semaine : trois articles intéressants sur {skill}, je les résume en "
        "commentaire.",
    ),
    "en": (
        "💡 Tip of the day: {tip}",
        "Question for the experts: how do you handle {skill} in your teams?",
        "Intro workshop on {skill} on {date}, 12:30 to 13:30, room {room} and online. Sign up in "
        "the comments 👇",
        "Thanks {person} for yesterday's session on {skill}, very clear! Slides attached.",
    ),
}
PROJECT = {
    "fr": (
        "**Météo projet {project}** — semaine {week} ☀️\n\n- jalons : tenus\n- point "
        "d'attention : {risk}\n- prochaine étape : comité de pilotage du {date}",
        "Décision du comité de pilotage : {decision}. Le planning est mis à jour, merci à "
        "{person} pour la synthèse.",
        "La recette de la phase {small} démarre le {date}. {person}, peux-tu confirmer la "
        "disponibilité des utilisateurs clés ?",
        "Le compte rendu de l'atelier de cadrage est en pièce jointe. Prochaines actions : "
        "finaliser la liste des exigences et valider le budget.",
        "⚠️ Risque identifié sur {project} : {risk}. Proposition de plan d'action à discuter "
        "au prochain point.",
        "Livrable {small} déposé dans l'espace projet. Relecture souhaitée avant le {date} svp.",
        "Planning détaillé mis à jour (en pièce jointe) : la bascule reste prévue le {date}.",
    ),
    "en": (
        "**{project} weather report**, week {week} ☀️\n\n- milestones: on track\n- watch "
        "out: {risk}\n- next step: steering committee on {date}",
        "Steering committee decision: {decision}. Thanks {person} for the summary.",
        "Deliverable {small} is in the project space. Please review before {date}.",
    ),
}
CUSTOMER = {  # by customers
    "fr": (
        "Bonjour à tous, nous utilisons le {product} depuis {small} mois sur nos chantiers : "
        "très bonne fiabilité, mais l'autonomie de la batterie reste juste en hiver. Avez-vous "
        "des conseils ?",
        "Retour d'expérience : la mise en service du {product} a pris {small} jours au lieu "
        "des dix prévus. Bravo à l'équipe support 👍",
        "Question : une mise à jour du firmware du {product} est-elle prévue cette année ? "
        "Nous attendons la compatibilité Modbus TCP.",
        "Suggestion : pouvoir exporter les mesures du {product} en CSV directement depuis le "
        "portail nous ferait gagner beaucoup de temps.",
        "Merci pour la visite de l'usine la semaine dernière, très instructif pour nos "
        "équipes techniques !",
    ),
    "en": (
        "Hi all, we have been running the {product} on {n} sites for {small} months. "
        "Reliability is great; the dashboard could load faster though.",
        "Is a firmware update planned for the {product}? We are waiting for Modbus TCP support.",
        "Feature request: alerts by SMS when a {product} goes offline would help our night shift.",
        "Thanks to the support team for the quick answer on our ticket last week! 👍",
    ),
}
CUSTOMER_STAFF = {  # by employees, in customer communities
    "fr": (
        "📣 Nouvelle version du portail client : export CSV, alertes par SMS et tableau de "
        "bord plus rapide. Vos retours sont les bienvenus !",
        "Nous organisons une visite de notre usine de {site} le {date} pour les membres du club. "
        "Places limitées, inscrivez-vous en commentaire.",
        "Webinaire « Bien démarrer avec le {product} » le {date} à 11h. Le lien sera partagé ici.",
        "Merci à {customer} pour son témoignage lors du salon : {n2} visiteurs sur le stand !",
        "Enquête de satisfaction : {pct} % d'entre vous recommandent le {product}. Les "
        "résultats détaillés sont en pièce jointe.",
    ),
    "en": (
        "📣 New customer portal release: CSV export, SMS alerts and a faster dashboard. "
        "Feedback welcome!",
        'Webinar "Getting started with the {product}" on {date} at 11 am. The link will be '
        "shared here.",
        "Our team will visit customers in Germany and Austria next month. Let us know if you "
        "would like a meeting!",
        "Satisfaction survey: {pct}% of you would recommend the {product}. Full results attached.",
    ),
}
HELP = {
    "fr": (
        "Comment épingler un post en haut de ma communauté ?",
        "Est-il possible de recevoir moins de notifications par e-mail ?",
        "Je ne retrouve plus un fichier partagé dans une communauté, une idée ?",
        "Comment mentionner toute une communauté d'un coup ?",
        "💡 Astuce : tapez @ puis le début d'un nom pour mentionner un collègue, il sera "
        "prévenu. #astuce",
        "💡 Astuce : « Enregistrer » garde un post de côté, vous le retrouvez dans "
        "« Enregistrés ». #astuce",
        "Peut-on modifier un post après publication ? Et les autres voient-ils l'historique ?",
    ),
    "en": (
        "How can I mute a post I'm no longer interested in?",
        "Is there a way to see who acknowledged a must-read announcement?",
        "💡 Tip: add #hashtags to your posts, everyone can follow the topic. #tip",
        "Can I attach a spreadsheet to a comment?",
    ),
}
BOARD = {
    "fr": (
        "Ordre du jour du comité du {date} :\n\n1. résultats du mois\n2. point {project}\n"
        "3. plan de recrutement\n4. questions diverses",
        "Compte rendu du comité : résultats conformes au budget, décision de lancer "
        "{project}. Diffusion restreinte, merci.",
        "Merci de transmettre vos éléments pour la revue trimestrielle avant le {date}.",
        "Préparation du séminaire de direction : {person} centralise les propositions de sujets.",
    ),
    "en": ("Agenda for the {date} committee: monthly results, {project}, hiring plan.",),
}
PROFILE = {
    "fr": (
        "Une belle étape aujourd'hui : certification {skill} obtenue 🎓 Merci à {person} pour "
        "ses conseils !",
        "De retour du salon {event} : beaucoup d'échanges autour de « {skill} ». Je partage "
        "mes notes avec qui veut.",
        "Je cherche un binôme pour préparer la présentation « {skill} » du {date}. Des "
        "volontaires ?",
        "Dix ans dans l'entreprise aujourd'hui ! Merci à toutes les personnes croisées en "
        "chemin 🙏",
        "Petite fierté : notre équipe a livré {project} avec {small} jours d'avance.",
        "Je participe à la course solidaire de {site} le {date}, qui vient courir avec moi ? 🏃",
        "Première semaine sur mon nouveau poste, merci pour l'accueil ! Je travaille sur "
        "{project}, n'hésitez pas à me solliciter.",
        "Lecture du week-end : un excellent livre sur « {skill} », je recommande. #veille",
    ),
    "en": (
        "Milestone today: {skill} certification done 🎓 Thanks {person} for the tips!",
        "Back from {event}: lots of conversations about {skill}. Happy to share my notes.",
        "First week in my new role, thanks for the warm welcome! I'm working on {project}.",
        "Proud of the team: we shipped {project} {small} days early.",
        "Weekend reading on {skill}, highly recommended. #reading",
    ),
}
COMMUNITY_ANNOUNCEMENT = {
    "fr": (
        "📌 Prochaine réunion de la communauté {team} le {date} à 14h, en salle {room} et en "
        "visio. L'ordre du jour suit en commentaire.",
        "Bienvenue aux {small} nouveaux membres de la communauté ! Présentez-vous en "
        "commentaire 👋",
        "Rappel des règles de la communauté : bienveillance, pas de données clients "
        "nominatives, une question par fil. Merci à tous !",
        "📌 Les supports de la dernière session sont dans l'onglet Fichiers. Prochaine "
        "session le {date}.",
    ),
    "en": (
        "📌 Next {team} meeting on {date} at 2 pm, room {room} and online.",
        "Welcome to our {small} new members! Introduce yourselves in the comments 👋",
    ),
}
BANKS: dict[str, dict[str, tuple[str, ...]]] = {
    Kind.REGION: REGION,
    Kind.TRADE: TRADE,
    Kind.PRACTICE: PRACTICE,
    Kind.PROJECT: PROJECT,
    Kind.CUSTOMER: CUSTOMER_STAFF,
    Kind.HELP: HELP,
    Kind.OTHER: BOARD,
    "customer": CUSTOMER,
    "profile": PROFILE,
    "announcement": COMMUNITY_ANNOUNCEMENT,
}

# A practice's subjects in French, its tips in French and English, by its first tag; and
# the subjects in English (PRACTICE_SUBJECTS_EN).
PRACTICE_TOPICS: dict[str, tuple[tuple[str, ...], tuple[str, ...], tuple[str, ...]]] = {
    "python": (
        ("pandas", "Jupyter", "Polars", "pytest", "les environnements virtuels"),
        (
            "`df.query()` rend les filtres pandas bien plus lisibles.",
            "`python -m venv .venv` avant chaque projet évite les conflits de versions.",
        ),
        ("`pathlib` beats `os.path` for file paths.",),
    ),
    "lean": (
        ("le 5S", "le SMED", "le Kanban", "la cartographie VSM", "le management visuel"),
        (
            "un point de 10 minutes debout devant le tableau vaut mieux qu'une réunion d'une "
            "heure.",
            "photographiez le poste avant et après le 5S : l'effet est immédiat.",
        ),
        ("go and see: the gemba walk beats any report.",),
    ),
    "sécurité": (
        ("l'authentification à deux facteurs", "la détection du phishing", "les sauvegardes"),
        (
            "survolez un lien avant de cliquer : l'adresse réelle s'affiche en bas de l'écran.",
            "un gestionnaire de mots de passe vaut mieux que le même mot de passe partout.",
        ),
        ("lock your screen (Windows + L) every time you leave your desk.",),
    ),
    "accessibility": (
        ("screen readers", "colour contrast", "WCAG 2.2", "keyboard navigation"),
        ("ajoutez un texte alternatif à chaque image de vos présentations.",),
        (
            "check colour contrast with the built-in checker before sharing a slide deck.",
            "every form field needs a visible label, not just a placeholder.",
        ),
    ),
    "rse": (
        ("le bilan carbone", "le covoiturage", "les achats responsables", "le tri des déchets"),
        ("une visio caméra coupée consomme bien moins de données.",),
        ("turn off the second screen when you leave: it adds up over a year.",),
    ),
    "management": (
        ("les entretiens individuels", "le feedback", "les rituels d'équipe", "la délégation"),
        ("terminez chaque point d'équipe par « qu'est-ce qui vous bloque ? ».",),
        ('end every team meeting with "what is blocking you?".',),
    ),
    "innovation": (
        ("le prototypage rapide", "le design thinking", "la veille technologique"),
        ("un prototype en carton la première semaine évite des mois de développement.",),
        ("a paper prototype in week one saves months of development.",),
    ),
    "excel": (
        ("les tableaux croisés dynamiques", "Power Query", "RECHERCHEX", "les macros"),
        (
            "Ctrl + T transforme une plage en tableau : filtres et formules suivent tout seuls.",
            "RECHERCHEX remplace avantageusement RECHERCHEV, même vers la gauche.",
        ),
        ("Ctrl + T turns a range into a table: filters and formulas follow.",),
    ),
}
PRACTICE_SUBJECTS_EN = {
    "python": ("pandas", "Jupyter", "Polars", "pytest", "virtual environments"),
    "lean": ("5S", "SMED", "Kanban", "value stream mapping", "visual management"),
    "sécurité": ("two-factor authentication", "phishing detection", "backups"),
    "accessibility": ("screen readers", "colour contrast", "WCAG 2.2", "keyboard navigation"),
    "rse": ("our carbon footprint", "carpooling", "responsible purchasing", "waste sorting"),
    "management": ("one-to-ones", "feedback", "team rituals", "delegation"),
    "innovation": ("rapid prototyping", "design thinking", "technology watch"),
    "excel": ("pivot tables", "Power Query", "XLOOKUP", "macros"),
}
PRODUCTS = (
    "capteur connecté V3",
    "boîtier IoT G2",
    "coffret de commande AX-200",
    "module de télérelève TR-5",
)
PRODUCTS_EN = ("V3 connected sensor", "G2 IoT gateway", "AX-200 control cabinet", "TR-5 meter")
ROOMS = ("Mont-Blanc", "Garonne", "Loire", "Vercors", "Atlantique", "Rhône", "Seine")
EVENTS = ("Global Industrie", "VivaTech", "SIDO", "Hannover Messe", "Pollutec")
RISKS = {
    "fr": (
        "retard de livraison d'un fournisseur",
        "disponibilité des utilisateurs clés",
        "reprise des données historiques",
        "dépendance avec la migration réseau",
    ),
    "en": ("a supplier's late delivery", "key users' availability", "legacy data migration"),
}
DECISIONS = {
    "fr": (
        "le démarrage est décalé de deux semaines",
        "le périmètre de la phase 1 est réduit aux sites français",
        "le budget complémentaire est validé",
        "le choix de l'intégrateur est confirmé",
    ),
    "en": ("phase 1 is limited to the French sites", "the extra budget is approved"),
}
GENERIC_SKILLS = {
    "fr": ("Gestion de projet", "Conduite du changement", "Animation de réunion"),
    "en": ("project management", "change management", "facilitation"),
}
GENERIC_PROJECTS = ("Déploiement Essaim", "Plan stratégique 2030", "Transformation digitale")

# Comments by what the post is about (``_mood``), then the answers to questions: the
# dedicated answer of a known question (ANSWER_FOR), else a general one.
COMMENTS: dict[str, dict[str, tuple[str, ...]]] = {
    "generic": {
        "fr": (
            "Merci pour le partage !",
            "Très intéressant, merci.",
            "Je transmets à mon équipe.",
            "Merci pour ce récapitulatif très clair.",
            "+1, ça nous aiderait beaucoup.",
            "Même constat de notre côté.",
            "Top, c'est exactement ce qu'il nous fallait.",
            "Pouvez-vous préciser le périmètre concerné ?",
            "Intéressant. Avez-vous mesuré l'impact sur les délais ?",
            "Je peux aider si besoin, n'hésitez pas.",
            "Est-ce que les slides seront partagées ?",
            "On a eu le même souci le mois dernier, je vous envoie notre retour d'expérience.",
        ),
        "en": (
            "Thanks for sharing!",
            "Very interesting, thanks.",
            "Same here.",
            "Happy to help if needed.",
            "Will the slides be shared?",
            "Good idea, shall we discuss it at the next meeting?",
        ),
    },
    "welcome": {
        "fr": (
            "Bienvenue ! 👋",
            "Bienvenue parmi nous !",
            "Ravi de te compter dans l'équipe 🙂",
            "Bienvenue, au plaisir de travailler ensemble !",
        ),
        "en": ("Welcome aboard! 👋", "Welcome, great to have you!"),
    },
    "congrats": {
        "fr": (
            "Bravo ! 🎉",
            "Félicitations, bien mérité !",
            "Bravo à toute l'équipe !",
            "Super nouvelle 👏",
            "Chapeau 👏",
        ),
        "en": ("Congratulations 🎉", "Well done, everyone!", "Great news 👏"),
    },
    "event": {
        "fr": (
            "Je m'inscris 🙋",
            "Je serai là !",
            "Est-ce ouvert aux autres sites ?",
            "Quelle est la date limite d'inscription ?",
            "Super initiative 👏",
            "Est-ce que ce sera enregistré ?",
        ),
        "en": ("Count me in!", "Will it be recorded?", "Is this open to the other sites too?"),
    },
    "poll": {
        "fr": ("J'ai voté 🗳️", "Difficile de choisir !", "Bonne idée de demander l'avis de tous."),
        "en": ("Voted!", "Tough choice!"),
    },
    "notice": {
        "fr": (
            "C'est noté, merci !",
            "Merci pour l'info.",
            "Merci de prévenir à l'avance 🙏",
            "Est-ce que cela concerne aussi le bâtiment A ?",
        ),
        "en": ("Noted, thanks!", "Thanks for the heads-up."),
    },
}
MOODS = (  # the first that matches the post's text
    ("welcome", ("bienvenue", "welcome", "rejoint", "nouveaux membres", "première semaine")),
    ("congrats", ("bravo", "félicitations", "congratulations", "certification", "fierté")),
    ("congrats", ("proud", "dix ans", "milestone", "résultats du trimestre")),
    ("event", ("atelier découverte", "workshop on", "afterwork", "webinaire", "webinar")),
    ("event", ("don du sang", "séminaire annuel", "prochaine réunion", "meeting on", "collecte")),
    ("event", ("visite de notre usine", "course solidaire", "inscri")),
    ("notice", ("travaux", "fermée", "coupure", "rappel", "arrêt", "charte", "phishing")),
    ("notice", ("exercice", "drill", "horaires", "hours", "rénovation", "casiers")),
)
ANSWERS = {
    "fr": (
        "On a eu le même besoin l'an dernier, je t'envoie notre modèle.",
        "Je peux t'aider, je te contacte en message.",
        "Nous utilisons la deuxième approche depuis un an, je vous raconte au prochain atelier.",
        "Il y a un modèle à jour dans l'espace documentaire, je te mets le lien en message.",
    ),
    "en": (
        "We had the same need last year, I'll send you our template.",
        "Happy to help, I'll message you.",
    ),
}
ANSWER_FOR = {  # the question's template → its answer
    HELP["fr"][0]: "Menu « ⋯ » du post, puis « Épingler » : c'est réservé aux animateurs et "
    "aux propriétaires de la communauté.",
    HELP["fr"][1]: "Oui : dans vos préférences, onglet Notifications, choisissez le résumé "
    "quotidien.",
    HELP["fr"][2]: "L'onglet Fichiers de la communauté liste tout ce qui y a été partagé, du "
    "plus récent au plus ancien.",
    HELP["fr"][3]: "Avec @tous, mais seuls les propriétaires et les animateurs peuvent le faire, "
    "une fois par heure.",
    HELP["fr"][6]: "Oui, avec « Modifier » : la mention « modifié » apparaît et les versions "
    "précédentes sont conservées.",
    HELP["en"][0]: 'Open the post\'s "⋯" menu and choose "Mute": no more notifications from it.',
    HELP["en"][1]: "Yes: the author and the communications team see it on the tracking page.",
    HELP["en"][3]: "Yes: Excel, CSV and OpenDocument files are accepted.",
    CUSTOMER["fr"][0]: "Le mode économie d'énergie (Paramètres > Batterie) double l'autonomie "
    "par grand froid. Je vous envoie la notice.",
    CUSTOMER["fr"][2]: "Oui : la version 4.2 apporte Modbus TCP, elle sort au printemps. Nous "
    "vous préviendrons ici.",
    CUSTOMER["fr"][3]: "Merci pour la suggestion, je la transmets à l'équipe produit.",
    CUSTOMER["en"][1]: "Yes: release 4.2 adds Modbus TCP this spring. We will post it here.",
    CUSTOMER["en"][2]: "Thanks for the suggestion, I'm passing it on to the product team.",
}
REPLIES = {  # to a question, to an answer, to anything else
    "question": {
        "fr": (
            "oui, c'est confirmé.",
            "bonne question, je vérifie et je reviens vers toi.",
            "je t'envoie ça par message.",
            "oui, c'est ouvert à tout le monde.",
        ),
        "en": ("yes, confirmed.", "good question, I'll check and get back to you."),
    },
    "answer": {
        "fr": ("merci pour ta réponse !", "merci, c'est très clair.", "parfait, merci !"),
        "en": ("thanks for the answer!", "perfect, thanks!"),
    },
    "other": {
        "fr": ("d'accord avec toi.", "merci !", "+1 !", "tout à fait 🙂"),
        "en": ("agreed.", "thanks!", "+1!"),
    },
}
POLLS = {
    "fr": (
        (
            "Quel créneau préférez-vous pour la prochaine réunion ?",
            ("Mardi midi", "Jeudi 9h", "Vendredi 14h"),
        ),
        (
            "Quel format pour le séminaire d'équipe ?",
            ("Une journée sur site", "Deux demi-journées", "En extérieur"),
        ),
        (
            "Quel sujet pour le prochain atelier ?",
            ("Outils collaboratifs", "Gestion du temps", "Prise de parole", "Sécurité"),
        ),
        (
            "Où organiser le repas de fin d'année ?",
            ("Au restaurant d'entreprise", "Dans un restaurant du centre", "Pique-nique"),
        ),
        (
            "Êtes-vous intéressés par une formation avancée sur ce sujet ?",
            ("Oui, en présentiel", "Oui, à distance", "Pas pour l'instant"),
        ),
    ),
    "en": (
        ("Which slot suits you best for the next meeting?", ("Tuesday noon", "Thursday 9 am")),
        ("Which topic for the next workshop?", ("Collaboration tools", "Time management")),
        ("Would you attend an advanced training?", ("Yes, on site", "Yes, online", "Not now")),
    ),
}


@dataclass(frozen=True)
class CompanyNews:
    """A company announcement: its text, how many days ago, must-read, its target."""

    text: str
    days_ago: float
    must_read: bool = False
    unit: str = ""  # the name of the org unit it is sent to
    site: str = ""  # the city of the site it is sent to
    file: str = ""  # a file kind to attach


COMPANY = (
    CompanyNews(
        "**Nouvelle charte informatique**\n\nLa charte d'utilisation des outils numériques est "
        "mise à jour : mots de passe, télétravail, outils d'IA. Merci d'en prendre "
        "connaissance et de confirmer votre lecture avant le {date}.\n\n---\n\n🇬🇧 **New IT "
        "policy**: passwords, remote work and AI tools. Please read it and acknowledge. "
        "#sécurité",
        21,
        must_read=True,
        file="pdf",
    ),
    CompanyNews(
        "**Production : arrêt technique de la ligne 3**\n\nLa ligne 3 sera à l'arrêt le {date} "
        "pour maintenance préventive. Chaque équipe recevra son planning par son "
        "responsable. Merci de confirmer votre lecture. #production",
        9,
        must_read=True,
        unit="Production",
    ),
    CompanyNews(
        "**Campagne d'entretiens annuels**\n\nLa campagne est ouverte jusqu'au {date}. Les "
        "supports et le calendrier sont dans la communauté Ressources humaines. #rh",
        4,
        must_read=True,
    ),
    CompanyNews(
        "**Bienvenue sur Essaim !** 🐝\n\nNotre réseau social d'entreprise remplace la lettre "
        "interne : rejoignez les communautés de votre métier et de votre site, suivez vos "
        "collègues, posez vos questions dans Entraide Essaim.\n\n🇬🇧 Welcome to Essaim, our "
        "new enterprise social network! #essaim",
        58,
    ),
    CompanyNews(
        "🎉 **Résultats du trimestre** : chiffre d'affaires en hausse de {gain} %, carnet de "
        "commandes solide. Merci à toutes et à tous ! Détails au prochain café-direction "
        "du {date}.\n\n🇬🇧 Quarterly revenue up {gain}%: thank you all!",
        33,
        file="png",
    ),
    CompanyNews(
        "**Site de Lyon : rénovation du hall d'accueil** à partir du {date}. Pendant trois "
        "semaines, entrée par l'accès nord.",
        15,
        site="Lyon",
    ),
    CompanyNews(
        "Le **séminaire annuel** aura lieu le {date} à Lyon. Programme, transport et "
        "hébergement suivent dans les communautés de vos sites. #séminaire",
        45,
    ),
    CompanyNews(
        "**Semaine de la qualité de vie au travail** : ateliers, conférences et défis "
        "sportifs sur tous les sites du {date} au vendredi. #qvt",
        27,
    ),
    CompanyNews(
        "⚠️ **Sécurité : campagne de phishing en cours.** Des e-mails imitant notre service "
        "paie circulent. Ne cliquez sur aucun lien et signalez-les au support. #cybersécurité",
        2,
    ),
    CompanyNews(
        "**Mobilité douce** : le forfait vélo passe à 600 € par an, demande en ligne avant "
        "le {date}. #rse",
        38,
    ),
)

WEEKDAYS = {
    "fr": ("lundi", "mardi", "mercredi", "jeudi", "vendredi", "samedi", "dimanche"),
    "en": ("Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday", "Sunday"),
}
MONTHS = {
    "fr": (
        *("janvier", "février", "mars", "avril", "mai", "juin", "juillet"),
        *("août", "septembre", "octobre", "novembre", "décembre"),
    ),
    "en": (
        *("January", "February", "March", "April", "May", "June", "July"),
        *("August", "September", "October", "November", "December"),
    ),
}
REACTION_WEIGHTS = {
    ReactionKind.LIKE: 50,
    ReactionKind.CELEBRATE: 14,
    ReactionKind.SUPPORT: 9,
    ReactionKind.INSIGHTFUL: 13,
    ReactionKind.CURIOUS: 5,
    ReactionKind.THANKS: 9,
}


# --- Who may do what, where ----------------------------------------------------------------


@dataclass
class _Place:
    """Where posts go, and who may write, run, read and comment there."""

    kind: str  # a community Kind, "profile" or "company"
    community: Community | None = None
    writers: list[int] = field(default_factory=list)
    runners: list[int] = field(default_factory=list)
    members: list[int] = field(default_factory=list)  # whom interactions come from first
    readers: Sequence[int] = ()  # who reads, reacts and votes
    commenters: Sequence[int] = ()
    member_commenters: list[int] = field(default_factory=list)  # members who comment
    language: str = ""  # "" : the author's
    projects: tuple[str, ...] = ()
    skills: tuple[str, ...] = ()
    skills_en: tuple[str, ...] = ()  # in English posts, when they differ
    tips: dict[str, tuple[str, ...]] = field(default_factory=dict)
    site: str = ""
    tags: tuple[str, ...] = ()
    weight: float = 1.0


@dataclass
class _CommentPlan:
    author: int
    body: str
    at: datetime
    parent: int | None = None  # index in the post's comments
    answer: bool = False  # answers the question the post or its parent asks
    mentions: list[int] = field(default_factory=list)
    reactions: list[tuple[int, str, datetime]] = field(default_factory=list)
    html: str = ""


@dataclass
class _PostPlan:
    author: int
    place: _Place
    kind: str
    body: str
    at: datetime
    language: str
    mentions: list[int]
    must_read: bool = False
    org_unit: int | None = None
    site: int | None = None
    pinned: bool = False
    html: str = ""
    hashtags: list[str] = field(default_factory=list)
    comments: list[_CommentPlan] = field(default_factory=list)
    reactions: list[tuple[int, str, datetime]] = field(default_factory=list)
    poll: tuple[tuple[str, ...], bool, bool, datetime | None] | None = None
    votes: list[tuple[int, list[int]]] = field(default_factory=list)  # user, option indexes
    states: list[tuple[int, datetime, datetime | None]] = field(default_factory=list)
    file_kinds: list[str] = field(default_factory=list)
    audience: Sequence[int] = ()
    answer: str = ""  # the answer to the question the post asks, when known


class _Slots(dict[str, str]):
    """The values of a template's slots, drawn when the template asks for them."""

    def __init__(self, maker: _Maker, plan: _PostPlan, language: str) -> None:
        super().__init__()
        self.maker, self.plan, self.language = maker, plan, language

    def __missing__(self, key: str) -> str:
        value = self.maker.slot(key, self.plan, self.language)
        self[key] = value
        return value


class _Maker:
    """Draws everything: texts, people, dates."""

    def __init__(self, seed: int, now: datetime, users: dict[int, tuple[str, str]]) -> None:
        self.rng = random.Random(f"{seed}-posts")  # noqa: S311  (demo data, not secrets)
        # Dates draw from their own stream: how many draws a date takes depends on today's
        # weekday, and the texts and people must not.
        self.dates = random.Random(f"{seed}-dates")  # noqa: S311
        self.now = now
        self.users = users  # id → (display name, language)
        self.fakers = {"fr": Faker("fr_FR"), "en": Faker("en_GB")}
        for i, faker in enumerate(self.fakers.values()):
            faker.seed_instance(seed + i)
        self.sites: list[str] = []

    # - people
    def mention(self, user: int) -> str:
        return f"@**{self.users[user][0]}|{user}**"

    def pick_other(self, pool: Sequence[int], not_in: Sequence[int]) -> int | None:
        for _ in range(8):
            if not pool:
                return None
            found = pool[self.rng.randrange(len(pool))]
            if found not in not_in:
                return found
        return None

    def draw(self, count: int, first: Sequence[int], then: Sequence[int], skip: int) -> list[int]:
        """``count`` distinct people, about three quarters from ``first`` (members), the
        rest from ``then`` (everyone who reads), never ``skip``."""
        chosen: dict[int, None] = {}
        wanted = min(count, max(0, len(first) - 1) + max(0, len(then) - 1))
        tries = 0
        while len(chosen) < wanted and tries < 4 * wanted + 10:
            tries += 1
            pool = first if first and (not then or self.rng.random() < 0.75) else then
            found = pool[self.rng.randrange(len(pool))]
            if found != skip:
                chosen[found] = None
        return list(chosen)

    # - dates
    def posted_at(self, days_ago: float | None = None) -> datetime:
        """A working hour of the last DAYS days, weekends rarely."""
        rng = self.dates
        for _ in range(10):
            ago = DAYS * rng.random() ** 1.2 if days_ago is None else days_ago
            day = (self.now - timedelta(days=ago)).date()
            if day.weekday() < 5 or rng.random() < 0.1:
                break
        minutes = int(rng.triangular(7.5 * 60, 19 * 60, 10 * 60))
        at = timezone.make_aware(datetime(day.year, day.month, day.day)) + timedelta(
            minutes=minutes, seconds=rng.randrange(60)
        )
        return min(at, self.now - timedelta(minutes=rng.randint(5, 120)))

    def after(self, start: datetime, within: timedelta) -> datetime:
        span = min(self.now - start, within).total_seconds()
        return start + timedelta(seconds=max(1.0, span * self.rng.random() ** 2))

    def day_text(self, at: datetime, language: str) -> str:
        day = (at + timedelta(days=self.rng.randint(1, 14))).date()
        day += timedelta(days=(7 - day.weekday()) % 7 if day.weekday() >= 5 else 0)  # Monday
        weekday = WEEKDAYS[language][day.weekday()]
        month = MONTHS[language][day.month - 1]
        if language == "fr":
            return f"le {weekday} {day.day} {month}"
        return f"on {weekday} {day.day} {month}"

    # - texts
    def slot(self, key: str, plan: _PostPlan, language: str) -> str:
        rng, place = self.rng, plan.place
        if key in ("person", "person2"):
            pool = place.members or plan.audience
            found = self.pick_other(pool, [plan.author, *plan.mentions])
            if found is None:
                return self.fakers[language].first_name()
            plan.mentions.append(found)
            return self.mention(found)
        if key == "date":
            text = self.day_text(plan.at, language)
            return text.removeprefix("le ").removeprefix("on ")
        if key == "day":
            return WEEKDAYS[language][rng.randrange(5)]
        if key == "site":
            return place.site or (rng.choice(self.sites) if self.sites else "Paris")
        if key == "team":
            return place.community.name if place.community else "Essaim"
        if key == "project":
            return rng.choice(place.projects or GENERIC_PROJECTS)
        if key == "skill":
            skills = place.skills_en if language == "en" and place.skills_en else place.skills
            return rng.choice(skills or GENERIC_SKILLS[language])
        if key == "tip":
            tips = place.tips.get(language) or place.tips.get("fr") or ("",)
            return rng.choice(tips)
        if key == "customer":
            return str(self.fakers[language].company())
        if key == "first":
            return str(self.fakers[language].first_name())
        if key == "product":
            return rng.choice(PRODUCTS if language == "fr" else PRODUCTS_EN)
        if key in ("room", "room2"):
            return rng.choice(ROOMS)
        if key == "event":
            return rng.choice(EVENTS)
        if key == "risk":
            return rng.choice(RISKS[language])
        if key == "decision":
            return rng.choice(DECISIONS[language])
        if key == "week":
            return str(plan.at.isocalendar()[1])
        if key == "n":
            return str(rng.randint(3, 15))
        if key == "n2":
            return str(rng.randint(12, 80))
        if key == "small":
            return str(rng.randint(2, 6))
        if key == "pct":  # a share of something done
            return str(rng.randint(55, 95))
        if key == "gain":  # a rise, a saving
            return str(rng.randint(4, 25))
        raise KeyError(key)

    def fill(self, template: str, plan: _PostPlan, language: str) -> str:
        return string.Formatter().vformat(template, (), _Slots(self, plan, language))

    def language_of(self, author: int, place: _Place) -> str:
        if place.language and self.rng.random() < 0.8:
            return place.language
        return "en" if self.users[author][1] == "en" else "fr"


# --- Loading what exists -------------------------------------------------------------------


def _places(maker: _Maker, employees: list[int]) -> list[_Place]:
    """The communities that may take posts (not archived, with writers)."""
    from essaim.demo import KNOWLEDGE  # imported here: essaim.demo imports this module

    members: dict[int, list[tuple[int, str]]] = defaultdict(list)
    active = set(maker.users)
    for community_id, user_id, role in Membership.objects.values_list(
        "community_id", "user_id", "role"
    ):
        if user_id in active:
            members[community_id].append((user_id, role))
    places = []
    communities = Community.objects.filter(archived_at__isnull=True).select_related("site")
    for community in communities.order_by("pk"):
        everyone = members.get(community.pk, [])
        place = _Place(
            kind=community.kind,
            community=community,
            writers=sorted(u for u, role in everyone if role in WRITERS),
            runners=sorted(u for u, role in everyone if role in RUNNERS),
            members=sorted(u for u, _role in everyone),
            language="en" if community.name in ENGLISH_COMMUNITIES else "",
            tags=tuple(str(t) for t in community.tags or ()),
        )
        if not place.writers:
            continue
        open_to_all = community.visibility in (Visibility.PUBLIC, Visibility.EXTERNAL)
        place.readers = (
            sorted(set(employees) | set(place.members)) if open_to_all else place.members
        )
        place.commenters = (
            sorted(set(employees) | set(place.writers)) if open_to_all else place.writers
        )
        allowed = set(place.commenters)
        place.member_commenters = [u for u in place.members if u in allowed]
        know = KNOWLEDGE.get(community.name)
        if community.kind == Kind.TRADE and know is not None:
            place.projects, place.skills = know.projects, know.skills
        elif community.kind == Kind.PRACTICE:
            skills, tips_fr, tips_en = PRACTICE_TOPICS.get(
                place.tags[0] if place.tags else "", ((community.name,), (), ())
            )
            place.skills, place.tips = skills, {"fr": tips_fr, "en": tips_en}
            place.skills_en = PRACTICE_SUBJECTS_EN.get(place.tags[0] if place.tags else "", ())
        elif community.kind in (Kind.PROJECT, Kind.OTHER):
            short = community.name.split(" \N{EN DASH} ")[0].replace("Projet ", "")
            place.projects = (short,) if community.kind == Kind.PROJECT else GENERIC_PROJECTS
        if community.site is not None:
            place.site = community.site.city or community.site.name
        # Busier: projects and the help desk; quieter: the board, customers.
        factor = {Kind.PROJECT: 2.0, Kind.HELP: 1.5, Kind.PRACTICE: 1.2, Kind.OTHER: 0.6}
        place.weight = math.sqrt(len(place.writers)) * factor.get(Kind(community.kind), 1.0)
        places.append(place)
    return places


# --- Planning ------------------------------------------------------------------------------


def _mood(text: str) -> str:
    """What a post is about, for the comments it gets (COMMENTS)."""
    lower = text.lower()
    for mood, words in MOODS:
        if any(word in lower for word in words):
            return mood
    return "generic"


def _interactions(maker: _Maker, plan: _PostPlan) -> None:
    """Comments (some answered), reactions to the post and to comments."""
    rng = maker.rng
    place = plan.place
    members = place.members
    readers = plan.audience
    commenters = place.commenters
    commenting = place.member_commenters
    lively = 3.0 if plan.kind == PostKind.ANNOUNCEMENT else 1.0
    reactions = int(rng.lognormvariate(1.0, 0.9) * lively)
    kinds = list(REACTION_WEIGHTS)
    weights = list(REACTION_WEIGHTS.values())
    for user in maker.draw(reactions, members, readers, plan.author):
        kind = rng.choices(kinds, weights)[0]
        plan.reactions.append((user, kind, maker.after(plan.at, timedelta(days=3))))
    comments = rng.choices((0, 1, 2, 3, 5, 8, 12), (40, 22, 14, 10, 8, 4, 2))[0]
    question = plan.kind != PostKind.POLL and "?" in plan.body.split("\n", 1)[0]
    mood = "poll" if plan.kind == PostKind.POLL else _mood(plan.body)
    for i, author in enumerate(maker.draw(comments, commenting, commenters, plan.author)):
        language = maker.language_of(author, place)
        at = maker.after(plan.at, timedelta(days=2))
        if i == 0 and question:  # someone answers
            body = plan.answer or rng.choice(ANSWERS[language])
            plan.comments.append(_CommentPlan(author, body, at, answer=True))
        else:
            plan.comments.append(_CommentPlan(author, rng.choice(COMMENTS[mood][language]), at))
    for index in range(len(plan.comments)):
        top = plan.comments[index]
        asks = top.body.rstrip().endswith("?")
        if rng.random() > (0.6 if asks or top.answer else 0.15):
            continue
        for n in range(rng.randint(1, 2)):
            # The post's author answers a question, or thanks for an answer; others agree.
            said = "other" if n else "question" if asks else "answer" if top.answer else "other"
            if said != "other" and plan.author != top.author:
                replier: int | None = plan.author
            else:
                pool = commenting if commenting and rng.random() < 0.75 else commenters
                replier = maker.pick_other(pool, [top.author])
            if replier is None:
                break
            reply = rng.choice(REPLIES[said][maker.language_of(replier, place)])
            if rng.random() < 0.6:
                body, mentions = f"{maker.mention(top.author)} {reply}", [top.author]
            else:
                body, mentions = reply[0].upper() + reply[1:], []
            at = maker.after(top.at, timedelta(days=1))
            plan.comments.append(_CommentPlan(replier, body, at, parent=index, mentions=mentions))
    for comment in plan.comments:
        if rng.random() < 0.3:
            for user in maker.draw(rng.randint(1, 3), members, readers, comment.author):
                comment.reactions.append(
                    (user, rng.choices(kinds, weights)[0], maker.after(comment.at, timedelta(1)))
                )


def _plan_posts(
    maker: _Maker,
    count: int,
    places: list[_Place],
    employees: list[int],
    externals: set[int],
    units: dict[int, tuple[tuple[str, ...], tuple[str, ...]]],
) -> list[_PostPlan]:
    rng = maker.rng
    plans: list[_PostPlan] = []
    weights = [p.weight for p in places]
    for _ in range(count):
        roll = rng.random()
        if roll < 0.15 or not places:  # on the author's profile
            author = employees[rng.randrange(len(employees))]
            projects, skills = units.get(author, ((), ()))
            place = _Place(
                kind="profile",
                readers=employees,
                commenters=employees,
                projects=projects,
                skills=skills,
            )
            plan = _PostPlan(author, place, PostKind.POST, "", maker.posted_at(), "fr", [])
            plan.audience = employees
            bank = PROFILE
        else:
            place = rng.choices(places, weights)[0]
            announce = roll > 0.98 and place.runners
            pool = place.runners if announce else place.writers
            author = pool[rng.randrange(len(pool))]
            kind = PostKind.ANNOUNCEMENT if announce else PostKind.POST
            plan = _PostPlan(author, place, kind, "", maker.posted_at(), "fr", [])
            plan.audience = place.readers
            if announce:
                bank = COMMUNITY_ANNOUNCEMENT
                plan.pinned = rng.random() < 0.3
            elif place.kind == Kind.CUSTOMER and author in externals:
                bank = CUSTOMER
            else:
                bank = BANKS.get(place.kind, PROFILE)
            if roll > 0.95 and not announce and place.kind != Kind.OTHER:
                plan.kind = PostKind.POLL
        language = maker.language_of(plan.author, plan.place)
        plan.language = language
        if plan.kind == PostKind.POLL:
            question, options = rng.choice(POLLS[language])
            plan.body = question
            closes = None
            if rng.random() < 0.5:
                closes = plan.at + timedelta(days=rng.randint(3, 14))
            plan.poll = (options, rng.random() < 0.2, rng.random() < 0.15, closes)
            voters = maker.draw(int(rng.lognormvariate(2.2, 0.7)), place.members, plan.audience, -1)
            for voter in voters:
                chosen = rng.sample(
                    range(len(options)), 2 if plan.poll[1] and rng.random() < 0.4 else 1
                )
                plan.votes.append((voter, chosen))
        else:
            template = rng.choice(bank[language])
            plan.body = maker.fill(template, plan, language)
            plan.answer = ANSWER_FOR.get(template, "")
            if place.tags and rng.random() < 0.35 and "#" not in plan.body:
                plan.body += "\n\n" + " ".join(f"#{t.replace(' ', '')}" for t in place.tags[:2])
        _interactions(maker, plan)
        plans.append(plan)
    return plans


def _company_news(
    maker: _Maker,
    count: int,
    author: int,
    employees: list[int],
    profiles: dict[int, tuple[str, int | None]],
) -> list[_PostPlan]:
    """Company announcements by the communications persona: must-reads and their
    acknowledgements, one to an org unit, one to a site."""
    rng = maker.rng
    units = dict(OrgUnit.objects.order_by("-pk").values_list("name", "pk"))  # the first
    paths = dict(OrgUnit.objects.values_list("pk", "path"))
    sites = {
        (city or name): pk for pk, name, city in Site.objects.values_list("pk", "name", "city")
    }
    plans = []
    for news in COMPANY[:count]:
        unit = units.get(news.unit) if news.unit else None
        site = sites.get(news.site) if news.site else None
        if (news.unit and unit is None) or (news.site and site is None):
            continue
        if unit is not None:
            prefix = paths[unit]
            audience = [u for u in employees if profiles.get(u, ("", None))[0].startswith(prefix)]
        elif site is not None:
            audience = [u for u in employees if profiles.get(u, ("", None))[1] == site]
        else:
            audience = employees
        place = _Place(kind="company", readers=audience, commenters=audience)
        at = maker.posted_at(news.days_ago)
        plan = _PostPlan(author, place, PostKind.ANNOUNCEMENT, "", at, "fr", [])
        plan.audience, plan.must_read, plan.org_unit, plan.site = (
            audience,
            news.must_read,
            unit,
            site,
        )
        plan.body = maker.fill(news.text, plan, "fr")
        if news.file:
            plan.file_kinds.append(news.file)
        _interactions(maker, plan)
        if news.must_read:
            # The older, the more acknowledged: from a quarter to nine in ten.
            share = min(0.9, 0.25 + news.days_ago / 25)
            for user in rng.sample(audience, int(len(audience) * share)):
                if user == author:
                    continue
                read = maker.after(at, timedelta(days=min(news.days_ago, 10)))
                plan.states.append((user, read, read + timedelta(seconds=rng.randint(5, 600))))
        plans.append(plan)
    return plans


# --- Files ---------------------------------------------------------------------------------


def _ascii(text: str) -> str:
    return unicodedata.normalize("NFKD", text).encode("ascii", "ignore").decode()


def _chart(rng: random.Random, title: str) -> bytes:
    image = Image.new("RGB", (640, 360), (246, 247, 250))
    draw = ImageDraw.Draw(image)
    draw.text((24, 16), _ascii(title), fill=(30, 30, 40))
    bars = rng.randint(5, 9)
    for i in range(bars):
        height = rng.randint(40, 260)
        left = 40 + i * (560 // bars)
        draw.rectangle([left, 330 - height, left + 560 // bars - 14, 330], fill=(41, 98, 255))
    draw.line([30, 331, 620, 331], fill=(90, 90, 90), width=2)
    out = io.BytesIO()
    image.save(out, "PNG")
    return out.getvalue()


def _photo(rng: random.Random, title: str) -> bytes:
    image = Image.new("RGB", (640, 400))
    draw = ImageDraw.Draw(image)
    top, bottom = (rng.randint(90, 150), rng.randint(150, 200), 235), (250, 220, 180)
    for y in range(400):
        mix = y / 399
        draw.line(
            [0, y, 640, y],
            fill=tuple(int(a + (b - a) * mix) for a, b in zip(top, bottom, strict=True)),
        )
    for _ in range(rng.randint(4, 8)):  # buildings, people, a stand …
        left, width = rng.randint(0, 560), rng.randint(40, 140)
        height = rng.randint(60, 220)
        colour = (rng.randint(40, 200), rng.randint(40, 160), rng.randint(40, 160))
        draw.rectangle([left, 400 - height, left + width, 400], fill=colour)
    draw.ellipse([500, 40, 560, 100], fill=(255, 214, 90))
    draw.text((16, 372), _ascii(title), fill=(255, 255, 255))
    out = io.BytesIO()
    image.save(out, "JPEG", quality=80)
    return out.getvalue()


def _csv(rng: random.Random, language: str) -> bytes:
    months = MONTHS[language]
    head = "mois;commandes;livraisons;taux de service" if language == "fr" else "month,orders"
    lines = [head]
    for month in months[:6]:
        orders = rng.randint(120, 480)
        if language == "fr":
            delivered = orders - rng.randint(0, 20)
            lines.append(f"{month};{orders};{delivered};{delivered / orders:.1%}".replace(".", ","))
        else:
            lines.append(f"{month},{orders}")
    return ("\n".join(lines) + "\n").encode()


def _notes(rng: random.Random, language: str, title: str) -> bytes:
    if language == "fr":
        body = [
            title,
            "",
            "Présents : l'équipe projet, les utilisateurs clés.",
            f"1. Avancement : {rng.randint(40, 95)} % du périmètre couvert.",
            "2. Points ouverts : reprise des données, formation.",
            "3. Décisions : la recette démarre comme prévu.",
            "",
            "Prochaine réunion dans deux semaines.",
        ]
    else:
        body = [title, "", f"1. Progress: {rng.randint(40, 95)}% done.", "2. Next meeting soon."]
    return ("\n".join(body) + "\n").encode()


def _checklist(language: str, title: str) -> bytes:
    items = (
        ("Réserver la salle", "Envoyer l'invitation", "Préparer les supports", "Faire le bilan")
        if language == "fr"
        else ("Book the room", "Send the invitation", "Prepare the slides")
    )
    lines = [f"# {title}", "", *(f"- [ ] {item}" for item in items)]
    return ("\n".join(lines) + "\n").encode()


def _pdf(title: str, lines: Sequence[str]) -> bytes:
    """A one-page PDF (Helvetica, WinAnsi) with a title and a few lines of text."""

    def literal(text: str) -> bytes:
        raw = text.encode("cp1252", "replace")
        return b"(" + raw.replace(b"\\", b"\\\\").replace(b"(", b"\\(").replace(b")", b"\\)") + b")"

    text = b"BT /F1 18 Tf 56 780 Td " + literal(title) + b" Tj /F1 11 Tf"
    for line in lines:
        text += b" 0 -22 Td " + literal(line) + b" Tj"
    stream = zlib.compress(text + b" ET")
    objects = [
        b"<< /Type /Catalog /Pages 2 0 R >>",
        b"<< /Type /Pages /Kids [3 0 R] /Count 1 >>",
        b"<< /Type /Page /Parent 2 0 R /MediaBox [0 0 595 842] "
        b"/Resources << /Font << /F1 4 0 R >> >> /Contents 5 0 R >>",
        b"<< /Type /Font /Subtype /Type1 /BaseFont /Helvetica /Encoding /WinAnsiEncoding >>",
        b"<< /Length %d /Filter /FlateDecode >>\nstream\n" % len(stream) + stream + b"\nendstream",
    ]
    out = bytearray(b"%PDF-1.4\n")
    offsets = []
    for number, body in enumerate(objects, start=1):
        offsets.append(len(out))
        out += b"%d 0 obj\n" % number + body + b"\nendobj\n"
    xref = len(out)
    out += b"xref\n0 %d\n0000000000 65535 f \n" % (len(objects) + 1)
    out += b"".join(b"%010d 00000 n \n" % offset for offset in offsets)
    out += b"trailer\n<< /Size %d /Root 1 0 R >>\nstartxref\n%d\n%%%%EOF\n" % (
        len(objects) + 1,
        xref,
    )
    return bytes(out)


FILE_NAMES = {
    "fr": {
        "pdf": ("Support de présentation", "Charte informatique 2026", "Planning détaillé"),
        "jpg": ("Photo de l'équipe", "Afterwork terrasse", "Stand du salon", "Atelier"),
        "png": ("Indicateurs du mois", "Avancement du projet", "Résultats du trimestre"),
        "csv": ("Données mensuelles", "Suivi des commandes"),
        "txt": ("Compte rendu de réunion", "Notes de l'atelier"),
        "md": ("Checklist de démarrage", "Ordre du jour"),
    },
    "en": {
        "pdf": ("Slide deck", "Detailed schedule"),
        "jpg": ("Team photo", "Trade show booth"),
        "png": ("Monthly figures", "Project progress"),
        "csv": ("Monthly data",),
        "txt": ("Meeting notes",),
        "md": ("Kick-off checklist",),
    },
}


def _file_kind(rng: random.Random, body: str) -> str:
    """A file that fits the text: slides, photos, figures, minutes."""
    text = body.lower()
    for words, kind in (
        (("slides", "supports", "présentation", "charte"), "pdf"),
        (("photo", "afterwork", "salon", "portes ouvertes", "booth"), "jpg"),
        (("indicateurs", "résultats", "figures", "enquête", "survey", "%"), "png"),
        (("compte rendu", "notes", "minutes"), "txt"),
        (("planning", "schedule"), "pdf"),
        (("ordre du jour", "agenda", "réunion", "meeting", "atelier"), "md"),
    ):
        if any(word in text for word in words):
            return kind
    return rng.choice(("pdf", "csv", "png", "jpg", "txt", "md"))


def _file(rng: random.Random, kind: str, language: str) -> tuple[bytes, str]:
    title = rng.choice(FILE_NAMES[language][kind])
    if kind == "pdf":
        lines = (
            ("Sommaire", "1. Contexte", "2. Objectifs", "3. Planning", "4. Prochaines étapes")
            if language == "fr"
            else ("Contents", "1. Context", "2. Goals", "3. Schedule")
        )
        return _pdf(title, lines), f"{title}.pdf"
    if kind == "jpg":
        return _photo(rng, title), f"{title}.jpg"
    if kind == "png":
        return _chart(rng, title), f"{title}.png"
    if kind == "csv":
        return _csv(rng, language), f"{title}.csv"
    if kind == "txt":
        return _notes(rng, language, title), f"{title}.txt"
    return _checklist(language, title), f"{title}.md"


def _choose_files(maker: _Maker, plans: list[_PostPlan], count: int) -> None:
    """About ``count`` files: on the posts that speak of one first, then on others."""
    rng = maker.rng
    wanted = count - sum(len(p.file_kinds) for p in plans)
    hints = ("pièce jointe", "slides", "supports", "attached", "photos", "compte rendu")
    eligible = [p for p in plans if p.kind != PostKind.POLL and not p.file_kinds]
    hinted = [p for p in eligible if any(h in p.body.lower() for h in hints)]
    taken = {id(p) for p in hinted}
    others = [p for p in eligible if id(p) not in taken] if len(hinted) < wanted else []
    rng.shuffle(hinted)
    rng.shuffle(others)
    chosen = []
    for plan in [*hinted, *others]:
        if wanted <= 0:
            break
        extra = 2 if wanted > 1 and rng.random() < 0.15 else 1
        plan.file_kinds += [_file_kind(rng, plan.body)] * extra
        chosen.append(plan)
        wanted -= extra
    # Every kind of file at least once: a kind given twice makes room for a missing one.
    given = Counter(kind for plan in chosen for kind in plan.file_kinds)
    for missing in (kind for kind in FILE_NAMES["fr"] if not given[kind]):
        for plan in chosen:
            spare = [i for i, kind in enumerate(plan.file_kinds) if given[kind] > 1]
            if spare:
                given[plan.file_kinds[spare[0]]] -= 1
                plan.file_kinds[spare[0]] = missing
                given[missing] += 1
                break


# --- Writing -------------------------------------------------------------------------------


def _resolver(names: dict[int, tuple[str, str]]) -> Callable[[list[MentionKey]], Any]:
    """Mentions name the people the demo chose, by id."""

    def resolve(keys: list[MentionKey]) -> dict[MentionKey, Person]:
        return {
            (name, pk): Person(pk, names[pk][0])
            for name, pk in keys
            if pk is not None and pk in names
        }

    return resolve


def _insert(model: type[Model], fields: tuple[str, ...], rows: list[tuple[Any, ...]]) -> list[int]:
    """Insert plain rows (values ready for the database) and return their ids, in order,
    as bulk_create does (INSERT … RETURNING) without its per-field work: 1 s less for the
    demo's posts and comments."""
    quote = connection.ops.quote_name
    columns = {f.attname: f.column for f in model._meta.concrete_fields}
    head = (
        f"INSERT INTO {quote(model._meta.db_table)} "  # noqa: S608  (names from the model)
        f"({', '.join(quote(columns[name]) for name in fields)}) VALUES "
    )
    one = "(" + ", ".join(["%s"] * len(fields)) + ")"
    ids: list[int] = []
    with connection.cursor() as cursor:
        for chunk in bulk.chunks(rows, 500):
            sql = (
                head + ", ".join([one] * len(chunk)) + f" RETURNING {quote(model._meta.pk.column)}"
            )
            cursor.execute(sql, [value for row in chunk for value in row])
            ids += [row[0] for row in cursor.fetchall()]
    return ids


def build_posts(seed: int, scale: float = 1.0) -> dict[str, int]:
    """Create the demo's posts and everything around them for the people and communities
    already built; returns how many of each were written. About POSTS_PER_PERSON posts
    per employee (at most POSTS_MAX) times ``scale``; nothing at scale 0."""
    now = timezone.now()
    users = {
        pk: (name, language)
        for pk, name, language in User.objects.filter(is_active=True).values_list(
            "pk", "display_name", "language"
        )
    }
    employees = sorted(
        User.objects.filter(is_active=True, kind=UserKind.EMPLOYEE).values_list("pk", flat=True)
    )
    count = round(scale * min(POSTS_PER_PERSON * len(employees), POSTS_MAX))
    if count <= 0 or not employees:
        return {"posts": 0}
    externals = set(
        User.objects.filter(is_active=True, kind=UserKind.EXTERNAL).values_list("pk", flat=True)
    )
    maker = _Maker(seed, now, users)
    maker.sites = sorted({c or n for n, c in Site.objects.values_list("name", "city")})
    from essaim.demo import KNOWLEDGE  # imported here: essaim.demo imports this module

    profiles: dict[int, tuple[str, int | None]] = {}
    departments: dict[int, tuple[tuple[str, ...], tuple[str, ...]]] = {}
    unit_names = dict(OrgUnit.objects.values_list("pk", "name"))
    for user_id, path, site_id in Profile.objects.values_list(
        "user_id", "org_unit__path", "site_id"
    ):
        profiles[user_id] = (path or "", site_id)
        parts = [int(p) for p in (path or "").strip("/").split("/") if p]
        # The department (one below the root) or, better, the service's knowledge.
        for unit in reversed(parts[1:]):
            know = KNOWLEDGE.get(unit_names.get(unit, ""))
            if know is not None:
                departments[user_id] = know.projects, know.skills
                break
    places = _places(maker, employees)
    communicators = sorted(
        set(
            UserRole.objects.filter(
                role=GlobalRole.COMMUNICATIONS, user__is_active=True
            ).values_list("user_id", flat=True)
        )
    )
    company: list[_PostPlan] = []
    if communicators:
        news = max(4, min(len(COMPANY), round(count / 300)))
        company = _company_news(maker, news, communicators[0], employees, profiles)
    plans = _plan_posts(maker, count - len(company), places, employees, externals, departments)
    plans += company
    plans.sort(key=lambda p: p.at)
    _choose_files(maker, plans, max(6, round(FILES * min(1.0, count / 3000))))
    stored: list[content_files.StoredFile] = []
    try:
        return _write(maker, plans, stored)
    except BaseException:
        for found in stored:
            content_files.delete_stored(found.key, found.thumb_key)
        raise


def _write(
    maker: _Maker, plans: list[_PostPlan], stored: list[content_files.StoredFile]
) -> dict[str, int]:
    rng = maker.rng
    resolve = _resolver(maker.users)
    rendered: dict[str, str] = {}

    def render(text: str) -> tuple[str, list[str]]:
        html, refs = render_with_refs(text, resolve)
        return html, refs.hashtags

    for plan in plans:
        plan.html, plan.hashtags = render(plan.body)
        for comment in plan.comments:
            if comment.body not in rendered:
                rendered[comment.body] = render(comment.body)[0]
            comment.html = rendered[comment.body]
    when = connection.ops.adapt_datetimefield_value
    post_fields = (
        *("author_id", "community_id", "kind", "org_unit_id", "site_id", "body", "html"),
        *("must_read", "pinned_at", "comment_count", "reaction_count", "created_at"),
        "activity_at",
    )
    posts = _insert(
        Post,
        post_fields,
        [
            (
                *(plan.author, plan.place.community.pk if plan.place.community else None),
                *(plan.kind, plan.org_unit, plan.site, plan.body, plan.html, plan.must_read),
                when(plan.at) if plan.pinned else None,
                *(len(plan.comments), len(plan.reactions), when(plan.at)),
                when(
                    max([plan.at, *(c.at for c in plan.comments), *(r[2] for r in plan.reactions)])
                ),
            )
            for plan in plans
        ],
    )
    # Comments, then the replies that need their ids.
    comment_fields = (
        *("post_id", "parent_id", "author_id", "body", "html", "reaction_count"),
        "created_at",
    )
    comment_ids: dict[int, list[int]] = {}  # id(plan) → its comments' ids

    def comment_rows(replies: bool) -> list[tuple[Any, ...]]:
        return [
            (
                *(post, comment_ids[id(plan)][c.parent] if c.parent is not None else None),
                *(c.author, c.body, c.html, len(c.reactions), when(c.at)),
            )
            for plan, post in zip(plans, posts, strict=True)
            for c in plan.comments
            if (c.parent is not None) == replies
        ]

    made = iter(_insert(Comment, comment_fields, comment_rows(replies=False)))
    for plan in plans:
        comment_ids[id(plan)] = [0 if c.parent is not None else next(made) for c in plan.comments]
    made = iter(_insert(Comment, comment_fields, comment_rows(replies=True)))
    for plan in plans:
        ids = comment_ids[id(plan)]
        comment_ids[id(plan)] = [
            next(made) if c.parent is not None else ids[i] for i, c in enumerate(plan.comments)
        ]
    comments = sum(len(ids) for ids in comment_ids.values())
    replies = sum(c.parent is not None for plan in plans for c in plan.comments)

    reactions: list[tuple[Any, ...]] = []  # user, post, comment, kind, created_at
    mentions: list[tuple[Any, ...]] = []  # post, comment, user, everyone, created_at
    hashtags: list[tuple[Any, ...]] = []  # post, name, created_at
    states: list[tuple[Any, ...]] = []  # post, user, read, acknowledged, saved
    for plan, post in zip(plans, posts, strict=True):
        reactions += [(u, post, None, k, when(at)) for u, k, at in plan.reactions]
        mentions += [(post, None, u, False, when(plan.at)) for u in plan.mentions]
        hashtags += [(post, name, when(plan.at)) for name in plan.hashtags]
        states += [(post, u, when(read), when(ack), None) for u, read, ack in plan.states]
        for comment, pk in zip(plan.comments, comment_ids[id(plan)], strict=True):
            reactions += [(u, None, pk, k, when(at)) for u, k, at in comment.reactions]
            mentions += [(post, pk, u, False, when(comment.at)) for u in comment.mentions]
    acknowledged = len(states)
    # A few posts saved by the personas (the people with a role), for their "Saved" page.
    unsaved = [(plan, post) for plan, post in zip(plans, posts, strict=True) if not plan.states]
    for user in sorted(set(UserRole.objects.values_list("user_id", flat=True))):
        for plan, post in rng.sample(unsaved, min(5, len(unsaved))):
            if plan.author != user and user in set(plan.audience):
                states.append((post, user, None, None, when(plan.at)))
    bulk.insert(Reaction, ("user_id", "post_id", "comment_id", "kind", "created_at"), reactions)
    bulk.insert(Mention, ("post_id", "comment_id", "user_id", "everyone", "created_at"), mentions)
    bulk.insert(Hashtag, ("post_id", "name", "created_at"), hashtags)
    state_fields = ("post_id", "user_id", "read_at", "acknowledged_at", "saved_at", "muted")
    bulk.insert(PostState, state_fields, [(*row, False) for row in states])

    # Polls: options and votes, with their counts.
    polled = [(plan, post) for plan, post in zip(plans, posts, strict=True) if plan.poll]
    polls = Poll.objects.bulk_create(
        [
            Poll(
                post_id=post, multiple=plan.poll[1], anonymous=plan.poll[2], closes_at=plan.poll[3]
            )
            for plan, post in polled
            if plan.poll is not None
        ]
    )
    options: list[PollOption] = []
    for (plan, _post), poll in zip(polled, polls, strict=True):
        assert plan.poll is not None
        counts = [0] * len(plan.poll[0])
        for _user, chosen in plan.votes:
            for index in chosen:
                counts[index] += 1
        options += [
            PollOption(poll=poll, label=label, position=i, vote_count=counts[i])
            for i, label in enumerate(plan.poll[0])
        ]
    options = PollOption.objects.bulk_create(options)
    by_poll: dict[int, list[PollOption]] = defaultdict(list)
    for option in options:
        by_poll[option.poll_id].append(option)
    votes = [
        (by_poll[poll.pk][index].pk, poll.pk, user)
        for (plan, _post), poll in zip(polled, polls, strict=True)
        for user, chosen in plan.votes
        for index in chosen
    ]
    bulk.insert(PollVote, ("option_id", "poll_id", "user_id"), votes)

    # Files, stored as uploads are.
    attachments: list[Attachment] = []
    for plan, post in zip(plans, posts, strict=True):
        for kind in plan.file_kinds:
            data, name = _file(rng, kind, plan.language)
            found = content_files.store_upload(io.BytesIO(data), name)
            stored.append(found)
            attachments.append(
                Attachment(
                    uploader_id=plan.author,
                    post_id=post,
                    key=found.key,
                    thumb_key=found.thumb_key,
                    name=found.name,
                    mime=found.mime,
                    kind=found.kind,
                    size=found.size,
                    width=found.width,
                    height=found.height,
                    sha256=found.sha256,
                    created_at=plan.at,
                )
            )
    bulk.insert_objects(Attachment, attachments)
    return {
        "posts": len(posts),
        "announcements": sum(p.kind == PostKind.ANNOUNCEMENT for p in plans),
        "must_read": sum(p.must_read for p in plans),
        "polls": len(polls),
        "comments": comments,
        "replies": replies,
        "reactions": len(reactions),
        "votes": len(votes),
        "hashtags": len(hashtags),
        "mentions": len(mentions),
        "acknowledgements": acknowledged,
        "files": len(attachments),
    }
