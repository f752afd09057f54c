"""The demo organisation's questions and answers: QUESTIONS questions at scale 1, about
three in five asked in the communities that suit questions (the help desk, practices,
trades, projects, customers, where the external customers ask too) and the others
company-wide, in French and English, with zero to six answers each, votes on the answers
and a few comments under them. About two in five answered questions have an accepted
answer; a few are closed as duplicates of the same question asked earlier in the same
place.

Then ARTICLES articles (how-to guides and reference pages) and CASE_STUDIES case studies
at scale 1, in the same places and languages: case studies in the communities where
projects are told (practices, trades, projects, customers) and company-wide, with the five
sections of services.case_study_template filled. A few articles are harvested from
accepted questions as services.harvest writes them. About a third have two or three
authors; each has one to five revisions that lead to its text; about one in ten is a
draft, a quarter have a review date in the next months, and readers who did not write
them say whether they were useful.

Texts come from the phrase banks below, by subject (expense reports, IT and the VPN, HR
and onboarding, the workplace, Essaim itself, a practice, a trade, a project, the
customers' products), filled with the place's skills and projects (essaim.demo.KNOWLEDGE)
or the customers' products, first names and figures. Askers come from a place's writers;
answerers from the people whose profile names the subject (skills, expertise, "ask me
about"): only them when a tag names a topic people declare, else mostly them, then the
place's members; voters from its readers. Articles are written by who knows their
subject, as answers: only them when a tag names a topic people declare (published articles
are evidence in "who knows X" too). Each is kept only when access.py lets them do it there
(access.may_ask, access.QuestionRule), asked once per person, place and action.

As in essaim.content.demo: everything is written in bulk and rendered once, counters
(answer_count, score, activity_at, useful_count …) set from the rows written, no real-time event is
emitted; the same seed gives the same texts, dates are relative to now and spread over
the same DAYS days as the posts. ``build_questions`` is called by
essaim.demo.build_organisation, in its transaction, after the posts.
"""

from __future__ import annotations

import math
import random
import string
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field, replace
from datetime import date, datetime, timedelta

from django.db import connection
from django.utils import timezone, translation
from django.utils.translation import pgettext
from faker import Faker

from essaim import access, bulk
from essaim.accounts.models import User, UserKind
from essaim.accounts.services import ServiceError
from essaim.communities.models import WRITERS, Community, Kind, Membership, Visibility
from essaim.content.demo import (
    DAYS,
    ENGLISH_COMMUNITIES,
    PRACTICE_SUBJECTS_EN,
    PRACTICE_TOPICS,
    PRODUCTS,
    PRODUCTS_EN,
)
from essaim.content.markdown import render_with_refs
from essaim.directory.models import ProfileTopic, Site, TopicKind
from essaim.directory.text import normalize

from .models import (
    Answer,
    AnswerComment,
    AnswerVote,
    Article,
    ArticleAuthor,
    ArticleFeedback,
    ArticleKind,
    ArticleRevision,
    Question,
    QuestionState,
    QuestionTag,
    tag_key,
)
from .services import CASE_STUDY_SECTIONS, clean_tags

QUESTIONS = 300  # at scale 1, whatever the size of the organisation
IN_COMMUNITIES = 0.6  # the others are company-wide
CUSTOMERS_ASK = 0.6  # in a customer community, the share asked by the customers themselves
DUPLICATES = 0.02  # closed as duplicates of an earlier question
ACCEPTED = 0.4  # answered questions with an accepted answer
# Answers per question: about one in eight without any (one in seven with the duplicates).
ANSWER_COUNTS = {0: 13, 1: 28, 2: 22, 3: 16, 4: 10, 5: 6, 6: 5}
TAGS_PER_QUESTION = 3
# What a person offers to answer about (knowledge.selectors.MY_AREAS, which the "for me"
# queue reads too): interests are not expertise.
AREAS = (TopicKind.SKILL, TopicKind.EXPERTISE, TopicKind.ASK_ME_ABOUT)
ARTICLES = 40  # how-to guides and reference pages at scale 1, harvested ones included
CASE_STUDIES = 15
HARVESTED = 0.1  # of the articles: an accepted question and its answer (services.harvest)
CO_WRITTEN = 1 / 3  # of the articles and case studies: two or three authors
DRAFTS = 0.1  # not published: read by their authors alone
REVIEWED = 0.25  # with a review date in the next months
REVISIONS = {1: 30, 2: 30, 3: 20, 4: 12, 5: 8}  # revisions per article, when it has texts enough
USEFUL = 0.8  # of the readers who say whether an article was useful


@dataclass(frozen=True)
class QuestionsSummary:
    """How many of each were written."""

    questions: int = 0
    answers: int = 0
    accepted: int = 0
    votes: int = 0
    comments: int = 0
    duplicates: int = 0
    articles: int = 0  # how-to guides and reference pages, harvested ones included
    case_studies: int = 0
    drafts: int = 0  # articles and case studies not published
    harvested: int = 0
    revisions: int = 0
    feedback: int = 0


# --- Phrase banks --------------------------------------------------------------------------
# Slots: {skill} and {project} (the place's, or any department's company-wide), {product}
# (a customer product), {site}, {first} (a first name), {customer} (a company), {n} (a
# small number). A tag "{skill}" is the skill drawn, as a tag.


@dataclass(frozen=True)
class Ask:
    """A question: its title (a question), its text (Markdown, often none), its tags and
    the answers that fit it, the best first."""

    title: str
    body: str = ""
    tags: tuple[str, ...] = ()
    answers: tuple[str, ...] = ()


@dataclass(frozen=True)
class Bank:
    """Questions on one subject in French and in English, and the directory topics of the
    people who answer them best."""

    fr: tuple[Ask, ...]
    en: tuple[Ask, ...] = ()
    experts: tuple[str, ...] = ()

    def asks(self, language: str) -> tuple[str, tuple[Ask, ...]]:
        """The questions in ``language``, or in the other one when it has none."""
        if (language == "en" and self.en) or not self.fr:
            return "en", self.en
        return "fr", self.fr


EXPENSES = Bank(
    fr=(
        Ask(
            "Quel est le plafond de remboursement d'un repas en déplacement ?",
            "Je pars {n} jours chez un client la semaine prochaine. Le plafond est-il le même "
            "à Paris et en région ?",
            ("notes-de-frais", "déplacements"),
            (
                "Le barème est dans la politique voyages (intranet Finance) : 25 € par repas en "
                "région, 30 € à Paris et à l'étranger. Au-delà, il faut l'accord préalable de "
                "ton manager.",
                "En région c'est 25 €, mais garde bien la facture : sans justificatif, rien "
                "n'est remboursé.",
            ),
        ),
        Ask(
            "Comment déclarer des frais kilométriques avec mon véhicule personnel ?",
            "",
            ("notes-de-frais", "indemnités-kilométriques"),
            (
                "Dans l'application de notes de frais, catégorie « Indemnités kilométriques » : "
                "la distance est calculée depuis l'adresse de ton site et le barème fiscal "
                "s'applique tout seul.",
            ),
        ),
        Ask(
            "Sous quel délai une note de frais est-elle remboursée ?",
            "J'ai soumis la mienne il y a trois semaines et elle est toujours **en attente de "
            "validation**. Est-ce normal ?",
            ("notes-de-frais",),
            (
                "Une fois validée par le manager, le virement part avec le cycle suivant : sous "
                "10 jours ouvrés en général. « En attente de validation », elle est encore chez "
                "ton manager : relance-le.",
                "Chez nous ça prend une semaine après validation. Vérifie aussi que ton RIB est "
                "à jour dans le SIRH.",
            ),
        ),
        Ask(
            "Faut-il garder les tickets papier une fois la note de frais scannée ?",
            "",
            ("notes-de-frais", "dématérialisation"),
            (
                "Non : depuis la dématérialisation, la photo prise dans l'application a valeur "
                "d'original. Tu peux jeter les tickets une fois remboursé.",
            ),
        ),
        Ask(
            "Comment refacturer des frais de déplacement à un client ?",
            "Mission de {n} jours chez {customer}, le contrat prévoit que les frais sont "
            "refacturés. Que faut-il indiquer dans la note de frais ?",
            ("notes-de-frais", "facturation"),
            (
                "Renseigne le code affaire du client sur chaque ligne : le contrôle de gestion "
                "reprend les montants dans la facture du mois suivant.",
            ),
        ),
        Ask(
            "Peut-on payer le repas d'un collègue en déplacement et se le faire rembourser ?",
            "",
            ("notes-de-frais", "déplacements"),
            (
                "Pour un repas d'équipe, la personne la plus haut placée paie et déclare le "
                "repas avec la liste des participants. Sinon chacun déclare ses propres frais.",
            ),
        ),
        Ask(
            "Comment obtenir une carte affaires ?",
            "",
            ("notes-de-frais", "carte-affaires"),
            (
                "Formulaire « Carte affaires » sur l'intranet Finance, validé par ton manager "
                "puis par la trésorerie : compte deux semaines.",
            ),
        ),
    ),
    en=(
        Ask(
            "What is the meal allowance when travelling abroad?",
            "",
            ("expenses", "travel"),
            (
                "It depends on the country: the travel policy on the Finance intranet has the "
                "table. For Germany it is €30 per meal.",
            ),
        ),
        Ask(
            "How do I claim a hotel I paid with my own card?",
            "",
            ("expenses", "travel"),
            (
                'Add it in the expense app as "Accommodation" with the hotel\'s invoice, not '
                "just the card receipt: it is paid back with the next cycle.",
            ),
        ),
        Ask(
            "How long does it take to get an expense report reimbursed?",
            "",
            ("expenses",),
            ("About ten working days once your manager has approved it.",),
        ),
    ),
    experts=("Comptabilité générale", "Contrôle de gestion", "Trésorerie", "SAP"),
)
IT = Bank(
    fr=(
        Ask(
            "Le VPN se déconnecte toutes les dix minutes en télétravail, une solution ?",
            "Depuis la mise à jour de la semaine dernière, le VPN coupe régulièrement. J'ai "
            "déjà :\n\n- redémarré le PC\n- testé en partage de connexion 4G\n\nMême résultat.",
            ("vpn", "télétravail"),
            (
                "C'est connu depuis la version 5.2 du client : installe la 5.3 depuis le Portail "
                "d'entreprise, ça a réglé le problème chez nous.",
                "Vérifie aussi que ta box n'est pas en « double NAT », ça coupe les tunnels longs.",
            ),
        ),
        Ask(
            "Peut-on se connecter au VPN depuis un ordinateur personnel ?",
            "",
            ("vpn", "sécurité"),
            (
                "Non : seuls les postes gérés par la DSI ont le certificat. Pour un accès "
                "ponctuel, utilise le bureau virtuel (lien dans le portail).",
            ),
        ),
        Ask(
            "Mot de passe expiré pendant les congés : comment le réinitialiser à distance ?",
            "",
            ("mot-de-passe", "microsoft-365"),
            (
                "Sur la page de connexion Microsoft 365, « Mot de passe oublié » : le code "
                "arrive sur ton téléphone si la double authentification est activée. Sinon, "
                "appelle le support au 4444.",
            ),
        ),
        Ask(
            "Comment partager mon agenda Outlook avec mon assistante ?",
            "",
            ("outlook", "microsoft-365"),
            (
                "Clic droit sur le calendrier > Partage > Autorisations, puis donne-lui le rôle "
                "« Délégué » : elle pourra accepter les invitations pour toi.",
            ),
        ),
        Ask(
            "Quelle est la taille maximale d'une pièce jointe par e-mail ?",
            "",
            ("outlook", "messagerie"),
            (
                "25 Mo. Au-delà, partage un lien OneDrive : le destinataire a toujours la "
                "dernière version.",
            ),
        ),
        Ask(
            "Peut-on installer soi-même un logiciel sur son poste ?",
            "J'aurais besoin de `draw.io` pour des schémas de processus.",
            ("logiciels", "poste-de-travail"),
            (
                "Passe par le Portail d'entreprise : draw.io y est déjà. Les autres logiciels se "
                "demandent au support, avec l'accord de ton manager.",
            ),
        ),
        Ask(
            "Mon écran externe n'est plus détecté sur la station d'accueil, que faire ?",
            "",
            ("poste-de-travail", "matériel"),
            (
                "Débranche la station d'accueil du secteur 30 secondes puis rebranche-la : elle "
                "se réinitialise. Si ça persiste, mets à jour le pilote DisplayLink.",
            ),
        ),
        Ask(
            "Comment signaler un e-mail de phishing ?",
            "",
            ("phishing", "cybersécurité"),
            (
                "Bouton « Signaler » dans Outlook (onglet Accueil) : le message part à l'équipe "
                "sécurité et disparaît de ta boîte. Ne clique sur aucun lien avant.",
            ),
        ),
        Ask(
            "Quel délai pour obtenir un nouvel ordinateur portable ?",
            "",
            ("matériel", "poste-de-travail"),
            (
                "Une semaine pour un modèle standard en stock. Fais la demande dans le portail "
                "du support, ton manager la valide.",
            ),
        ),
    ),
    en=(
        Ask(
            "The VPN keeps dropping when I work from home, any fix?",
            "",
            ("vpn", "remote-work"),
            ("Update the VPN client to 5.3 from the Company Portal: 5.2 had exactly this bug.",),
        ),
        Ask(
            "How do I get access to a shared mailbox?",
            "",
            ("outlook", "access"),
            (
                "Ask the IT service desk with the mailbox's name and your manager's approval: it "
                "shows up in Outlook within the hour.",
            ),
        ),
        Ask(
            "How do I set up two-factor authentication on a new phone?",
            "I changed phones and the authenticator app is empty.",
            ("mfa", "microsoft-365"),
            (
                'Sign in at the "My sign-ins" page from your laptop, remove the old phone and '
                "scan the new QR code with the app.",
            ),
        ),
        Ask(
            "How do I report a phishing e-mail?",
            "",
            ("phishing", "security"),
            ('Use the "Report" button in Outlook: it goes straight to the security team.',),
        ),
    ),
    experts=("Réseaux", "Infrastructure", "Cybersécurité", "Windows Server", "Active Directory"),
)
HR = Bank(
    fr=(
        Ask(
            "Combien de jours de télétravail par semaine sont autorisés ?",
            "",
            ("télétravail",),
            (
                "L'accord télétravail prévoit jusqu'à deux jours par semaine, à convenir avec "
                "ton manager. Le formulaire est dans le SIRH.",
                "Deux jours, mais certains postes en production n'y sont pas éligibles.",
            ),
        ),
        Ask(
            "Comment poser des congés sur une demi-journée ?",
            "",
            ("congés", "sirh"),
            (
                "Dans le SIRH, « Nouvelle absence », coche « Demi-journée » et choisis matin ou "
                "après-midi.",
            ),
        ),
        Ask(
            "Qui contacter pour une erreur sur ma fiche de paie ?",
            "",
            ("paie",),
            (
                "Le service paie, avec le formulaire « Question paie » du SIRH : réponse sous "
                "48 h. Joins une copie de la fiche concernée.",
            ),
        ),
        Ask(
            "Quelles sont les étapes de l'onboarding d'un nouvel arrivant ?",
            "J'accueille {first} dans l'équipe le mois prochain. Existe-t-il une checklist "
            "pour le manager ?",
            ("onboarding", "recrutement"),
            (
                "Oui : le parcours d'onboarding digital t'envoie une checklist quinze jours "
                "avant l'arrivée :\n\n1. commander le matériel\n2. demander badge et accès\n"
                "3. désigner un parrain ou une marraine\n\nLe premier jour est organisé par "
                "les RH.",
                "Pense surtout à prévoir un déjeuner d'équipe la première semaine, ça change tout.",
            ),
        ),
        Ask(
            "Comment s'inscrire à une formation du catalogue ?",
            "",
            ("formation",),
            (
                "Depuis le SIRH, onglet Formation : choisis la session, ton manager valide, puis "
                "le service formation confirme l'inscription.",
            ),
        ),
        Ask(
            "Les RTT non pris sont-ils perdus au 31 décembre ?",
            "",
            ("rtt", "congés"),
            (
                "Oui, sauf report accordé par la DRH. Tu peux aussi en verser jusqu'à cinq sur "
                "ton compte épargne-temps avant la fin de l'année.",
            ),
        ),
        Ask(
            "Comment fonctionne la prime de cooptation ?",
            "",
            ("recrutement", "cooptation"),
            (
                "1 000 € bruts versés après la période d'essai de la personne recrutée. Les "
                "postes ouverts à la cooptation sont sur l'intranet RH.",
            ),
        ),
        Ask(
            "Comment obtenir une attestation employeur ?",
            "",
            ("sirh", "documents"),
            ("Elle se télécharge dans le SIRH, rubrique « Mes documents », signée et datée.",),
        ),
    ),
    en=(
        Ask(
            "How many remote work days per week are allowed?",
            "",
            ("remote-work",),
            ("Up to two days a week under the remote work agreement, to agree with your manager.",),
        ),
        Ask(
            "Where do I find my payslips?",
            "",
            ("payroll",),
            ('In the HR portal, under "My documents": every payslip since you joined.',),
        ),
        Ask(
            "Is there a French course for international staff?",
            "",
            ("training", "languages"),
            (
                "Yes, the training catalogue has French courses at every level, paid by the "
                "company: ask your manager, then sign up in the HR portal.",
            ),
        ),
        Ask(
            "What should I prepare for a new team member's first day?",
            "{first} joins my team next month.",
            ("onboarding",),
            (
                "The onboarding programme sends you a checklist two weeks before: laptop, badge, "
                "accounts and a buddy. HR runs the welcome morning.",
            ),
        ),
    ),
    experts=("Paie", "Droit social", "SIRH", "Formation", "Recrutement", "Onboarding"),
)
WORKPLACE = Bank(
    fr=(
        Ask(
            "Comment réserver une salle de réunion sur un autre site ?",
            "",
            ("salles", "outlook"),
            (
                "Depuis Outlook, « Ajouter une salle », puis choisis le site : toutes les salles "
                "y sont, avec leur capacité et leur équipement.",
            ),
        ),
        Ask(
            "Mon badge ne fonctionne plus, à qui m'adresser ?",
            "",
            ("badge", "accueil"),
            (
                "À l'accueil de ton site : ils le réactivent sur place, ou en refont un en 24 h "
                "s'il est abîmé.",
            ),
        ),
        Ask(
            "Peut-on stocker des données clients dans un tableur partagé ?",
            "Pour une campagne, on voudrait partager la liste des contacts (nom, e-mail, "
            "téléphone) avec toute l'équipe commerciale.",
            ("rgpd", "données-personnelles"),
            (
                "Oui, dans un espace à accès restreint (pas un lien ouvert à tous) et seulement "
                "les colonnes utiles. Le traitement doit figurer au registre RGPD : l'équipe "
                "conformité peut t'aider.",
            ),
        ),
        Ask(
            "Combien de temps conserver les CV des candidats non retenus ?",
            "",
            ("rgpd", "recrutement"),
            (
                "Deux ans au plus, et seulement avec l'accord du candidat ; sinon ils sont "
                "supprimés à la fin du recrutement.",
            ),
        ),
        Ask(
            "Quelle est la procédure pour un achat de moins de 1 000 € ?",
            "",
            ("achats",),
            (
                "Une demande d'achat dans SAP, validée par ton manager, suffit. Au-dessus de "
                "1 000 €, il faut trois devis.",
            ),
        ),
        Ask(
            "Où trouver le modèle PowerPoint aux nouvelles couleurs ?",
            "",
            ("modèles", "charte-graphique"),
            (
                "Dans PowerPoint, Nouveau > Personnel : les modèles de l'entreprise y sont "
                "installés depuis la dernière mise à jour.",
            ),
        ),
        Ask(
            "Y a-t-il des places de parking pour les visiteurs à {site} ?",
            "",
            ("parking", "accueil"),
            ("Oui, une dizaine devant l'accueil : préviens-les la veille pour leur badge.",),
        ),
    ),
    en=(
        Ask(
            "How do I book a meeting room at another site?",
            "",
            ("rooms", "outlook"),
            ('In Outlook, "Add a room", then pick the site: every room is listed with its size.',),
        ),
        Ask(
            "Who do I contact when my badge stops working?",
            "",
            ("badge",),
            ("The front desk of your site: they fix it on the spot.",),
        ),
        Ask(
            "Can we keep customer contacts in a shared spreadsheet?",
            "",
            ("gdpr", "customers"),
            (
                "Yes, in a restricted space and only the columns you need; the compliance team "
                "adds it to the GDPR register.",
            ),
        ),
    ),
    experts=("Achats", "RGPD", "Protection des données", "Droit des contrats"),
)
ESSAIM = Bank(
    fr=(
        Ask(
            "Comment marquer une réponse comme acceptée ?",
            "",
            ("questions",),
            (
                "Seule la personne qui a posé la question, ou un animateur de la communauté, le "
                "peut : bouton « Accepter » sous la réponse.",
            ),
        ),
        Ask(
            "Comment retrouver toutes les questions sur un sujet ?",
            "",
            ("étiquettes",),
            (
                "Clique sur une étiquette sous une question : la page liste toutes celles qui "
                "la portent, les plus récentes d'abord.",
            ),
        ),
        Ask(
            "Peut-on poser une question anonymement ?",
            "",
            ("questions",),
            (
                "Non, chaque question est signée : c'est ce qui permet de demander des "
                "précisions. Pour un sujet sensible, passe par ton RH.",
            ),
        ),
        Ask(
            "Comment rejoindre une communauté privée ?",
            "",
            ("communautés",),
            ("Bouton « Demander à rejoindre » sur sa page : ses animateurs reçoivent la demande.",),
        ),
        Ask(
            "Pourquoi ma question a-t-elle été fermée comme doublon ?",
            "",
            ("questions",),
            (
                "Une question semblable existait déjà : le lien vers l'originale est en haut de "
                "la page. Si le sujet est différent, tu peux la rouvrir.",
            ),
        ),
        Ask(
            "Comment recevoir moins de notifications ?",
            "",
            ("notifications",),
            ("Dans tes préférences, onglet Notifications : choisis le résumé quotidien.",),
        ),
        Ask(
            "Qui voit les questions posées dans une communauté privée ?",
            "",
            ("confidentialité",),
            (
                "Seuls ses membres : elles n'apparaissent ni dans la recherche ni dans les "
                "listes des autres.",
            ),
        ),
    ),
    en=(
        Ask(
            "How do I accept an answer to my question?",
            "",
            ("questions",),
            ('Click "Accept" under the answer: only the asker and the animators can.',),
        ),
        Ask(
            "Can I edit a question after posting it?",
            "",
            ("questions",),
            ('Yes, with "Edit" on the question: the page shows it was edited.',),
        ),
        Ask(
            "How do I find the experts on a topic?",
            "",
            ("directory",),
            (
                'Search the directory for "who knows …": colleagues are ranked by their '
                "declared skills and their accepted answers.",
            ),
        ),
    ),
    experts=("Réseau social d'entreprise", "Animation de communautés", "Communication interne"),
)
WHO_KNOWS = Bank(  # company-wide, about any department's skills
    fr=(
        Ask(
            "Qui s'y connaît en « {skill} » pour m'aider sur un dossier ?",
            "J'aurais besoin d'une heure avec quelqu'un qui pratique « {skill} » pour relire "
            "notre approche avant un comité.",
            ("{skill}",),
            (
                "Je pratique « {skill} » depuis plusieurs années : envoie-moi ton dossier, on "
                "cale une heure cette semaine.",
                "Je peux relire aussi, j'ai fait la même démarche l'an dernier.",
            ),
        ),
        Ask(
            "Quelle formation pour progresser en « {skill} » ?",
            "",
            ("{skill}", "formation"),
            (
                "La formation interne de deux jours est une bonne base ; ensuite, rien ne "
                "remplace un vrai dossier avec quelqu'un d'expérimenté.",
            ),
        ),
    ),
    en=(
        Ask(
            "Who knows {skill} well enough to review a proposal?",
            "",
            ("{skill}",),
            ("I have worked with {skill} for years: send it over and let's book an hour.",),
        ),
    ),
)
PRACTICE = Bank(  # any community of practice, about its subjects
    fr=(
        Ask(
            "Quelles ressources pour débuter avec {skill} ?",
            "",
            (),
            (
                "Commence par la formation interne d'une demi-journée, puis pratique sur un vrai "
                "cas de ton équipe : c'est là que ça rentre.",
                "Il y a une sélection de liens dans l'onglet Fichiers de la communauté.",
            ),
        ),
        Ask(
            "Comment convaincre mon équipe d'adopter {skill} ?",
            "",
            ("adoption",),
            (
                "Montre un résultat concret sur un petit périmètre avant d'en parler en grand : "
                "un pilote de deux semaines vaut tous les arguments.",
            ),
        ),
        Ask(
            "Quelqu'un a-t-il mesuré ce que {skill} fait gagner ?",
            "On voudrait présenter des chiffres au comité avant d'étendre la démarche.",
            ("retour-d-expérience",),
            (
                "Sur notre périmètre, environ {n} heures par semaine et par équipe, mesurées "
                "sur trois mois. Je peux te montrer notre tableau.",
            ),
        ),
    ),
    en=(
        Ask(
            "Which resources would you recommend to get started with {skill}?",
            "",
            (),
            ("Start with the internal half-day course, then practise on a real case.",),
        ),
        Ask(
            "Has anyone measured the benefit of {skill}?",
            "",
            ("lessons-learned",),
            ("About {n} hours a week per team in our area, measured over three months.",),
        ),
    ),
)
# A practice's own questions and who answers them best, by the practice's first tag.
PRACTICES: dict[str, Bank] = {
    "python": Bank(
        fr=(
            Ask(
                "Comment lire tous les onglets d'un fichier Excel avec pandas ?",
                "J'ai un classeur avec un onglet par site et je voudrais tout concaténer :\n\n"
                '```python\nimport pandas as pd\ndf = pd.read_excel("ventes.xlsx")\n```\n\n'
                "Mais je n'obtiens que le premier onglet.",
                ("pandas",),
                (
                    "Passe `sheet_name=None` : tu obtiens un dictionnaire onglet → DataFrame, "
                    "puis `pd.concat(dfs.values(), keys=dfs.keys())`.",
                ),
            ),
            Ask(
                "Faut-il passer de pandas à Polars pour des fichiers de plusieurs Go ?",
                "",
                ("pandas", "polars"),
                (
                    "Pour des jointures et agrégations sur plusieurs Go, oui : Polars va souvent "
                    "cinq fois plus vite et consomme moins de mémoire. Pour de petits fichiers, "
                    "pandas suffit.",
                ),
            ),
            Ask(
                "Comment partager un notebook avec quelqu'un qui n'a pas Python ?",
                "",
                ("jupyter",),
                (
                    "Exporte-le en HTML avec `jupyter nbconvert --to html` : les graphiques "
                    "restent et il s'ouvre dans n'importe quel navigateur.",
                ),
            ),
            Ask(
                "Comment éviter les conflits de versions entre projets Python ?",
                "",
                ("environnements-virtuels",),
                (
                    "Un environnement par projet (`python -m venv .venv`) et un fichier de "
                    "dépendances figé : ça évite l'essentiel des conflits.",
                ),
            ),
        ),
        en=(
            Ask(
                "How do I read every sheet of an Excel file with pandas?",
                "",
                ("pandas",),
                ("Pass `sheet_name=None`: you get a dict of DataFrames, one per sheet.",),
            ),
            Ask(
                "pytest or unittest for a new project?",
                "",
                ("pytest",),
                ("pytest: plain asserts, fixtures, and it runs unittest tests too.",),
            ),
        ),
        experts=("Python", "SQL"),
    ),
    "excel": Bank(
        fr=(
            Ask(
                "Par quoi remplacer RECHERCHEV pour des formules plus robustes ?",
                "",
                ("formules",),
                (
                    "RECHERCHEX : elle cherche dans n'importe quelle colonne, même à gauche, et "
                    "gère le cas « non trouvé » avec un argument.",
                ),
            ),
            Ask(
                "Comment actualiser automatiquement un tableau croisé dynamique ?",
                "",
                ("tableaux-croisés",),
                (
                    "Options du tableau croisé > Données > « Actualiser les données lors de "
                    "l'ouverture du fichier ». Si la source change souvent, passe par Power "
                    "Query.",
                ),
            ),
            Ask(
                "Peut-on protéger une seule colonne d'un classeur partagé ?",
                "",
                ("classeurs",),
                (
                    "Oui : déverrouille toutes les cellules (Format de cellule > Protection), "
                    "verrouille la colonne, puis Révision > Protéger la feuille.",
                ),
            ),
        ),
        en=(
            Ask(
                "How do I refresh a pivot table automatically?",
                "",
                ("pivot-tables",),
                ('PivotTable options > Data > "Refresh data when opening the file".',),
            ),
        ),
        experts=("Excel",),
    ),
    "sécurité": Bank(
        fr=(
            Ask(
                "Un fournisseur demande par e-mail de changer son RIB, comment vérifier ?",
                "",
                ("fraude",),
                (
                    "Ne réponds pas au mail : appelle le fournisseur au numéro que tu connais "
                    "(pas celui du message) et préviens la comptabilité. C'est le scénario "
                    "classique de fraude au changement de RIB.",
                ),
            ),
            Ask(
                "Quel gestionnaire de mots de passe est autorisé ?",
                "",
                ("mots-de-passe",),
                (
                    "KeePass, installé depuis le Portail d'entreprise, est le seul outil validé "
                    "par la DSI.",
                ),
            ),
            Ask(
                "Faut-il chiffrer une clé USB pour transporter des plans ?",
                "",
                ("chiffrement",),
                (
                    "Oui, avec BitLocker To Go (clic droit sur la clé > Activer BitLocker). Pour "
                    "des documents confidentiels, préfère un partage OneDrive restreint.",
                ),
            ),
        ),
        en=(
            Ask(
                "Is it safe to use public Wi-Fi at a trade show?",
                "",
                ("wifi",),
                ("Only with the VPN on; better still, share your phone's connection.",),
            ),
        ),
        experts=("Cybersécurité", "Sécurité applicative", "Tests d'intrusion"),
    ),
    "lean": Bank(
        fr=(
            Ask(
                "Comment lancer un premier chantier 5S sans braquer l'atelier ?",
                "",
                ("5s",),
                (
                    "Commencez par une zone que l'équipe elle-même trouve pénible, et laissez-la "
                    "décider de ce qui part : les photos avant/après font le reste.",
                ),
            ),
            Ask(
                "SMED : par où commencer pour réduire les changements de série ?",
                "",
                ("smed",),
                (
                    "Filme un changement de série complet, puis sépare ce qui peut se faire "
                    "machine en marche de ce qui exige l'arrêt. Le premier gain vient de là.",
                ),
            ),
            Ask(
                "Quel format pour un tableau de management visuel efficace ?",
                "",
                ("management-visuel",),
                (
                    "Une page : sécurité, qualité, délais, avec trois indicateurs au plus et les "
                    "actions en cours. S'il faut plus de cinq minutes pour le lire, il est trop "
                    "chargé.",
                ),
            ),
        ),
        en=(
            Ask(
                "How do you run a gemba walk without it feeling like an inspection?",
                "",
                ("gemba",),
                ("Ask questions, never give orders on the spot, and come back with answers.",),
            ),
        ),
        experts=("Lean manufacturing", "Amélioration continue", "TPM"),
    ),
    "accessibility": Bank(
        fr=(
            Ask(
                "Comment ajouter un texte alternatif à une image dans Word ?",
                "",
                ("word",),
                ("Clic droit sur l'image > « Modifier le texte de remplacement ».",),
            ),
        ),
        en=(
            Ask(
                "Which screen reader should we test our intranet pages with?",
                "",
                ("screen-readers",),
                (
                    "NVDA on Windows (free) and VoiceOver on Mac cover most of our users: test "
                    "with both before a release.",
                ),
            ),
            Ask(
                "How do I check colour contrast in a slide deck?",
                "",
                ("contrast",),
                ("Review > Check Accessibility flags low contrast; aim for 4.5:1 for body text.",),
            ),
            Ask(
                "Are automatic captions good enough for recorded meetings?",
                "",
                ("captions",),
                (
                    "For internal meetings, yes, after a quick check of names and acronyms; for "
                    "anything published, correct them fully.",
                ),
            ),
            Ask(
                "Does a placeholder count as a label in a form?",
                "",
                ("forms",),
                (
                    "No: it disappears as you type and screen readers do not always read it. "
                    "Every field needs a visible label.",
                ),
            ),
        ),
    ),
    "management": Bank(
        fr=(
            Ask(
                "Comment préparer un entretien de recadrage ?",
                "",
                ("entretiens",),
                (
                    "Des faits précis et datés, leur impact, puis ce que tu attends ; laisse la "
                    "personne s'exprimer avant de conclure. Ton RH peut relire ta trame.",
                ),
            ),
            Ask(
                "Quels rituels pour une équipe à moitié en télétravail ?",
                "",
                ("rituels", "télétravail"),
                (
                    "Un point court chaque matin en visio, une journée commune sur site par "
                    "semaine, et un fil d'équipe pour le reste.",
                ),
            ),
            Ask(
                "Comment déléguer sans tout revérifier derrière ?",
                "",
                ("délégation",),
                (
                    "Fixe le résultat attendu et les points d'étape, pas la méthode : tu "
                    "vérifies aux étapes, pas à chaque geste.",
                ),
            ),
        ),
        en=(
            Ask(
                "How often do you hold one-to-ones with your team?",
                "",
                ("one-to-ones",),
                ("Every two weeks, 30 minutes, their agenda first.",),
            ),
        ),
        experts=("Management", "Conduite du changement"),
    ),
    "rse": Bank(
        fr=(
            Ask(
                "Comment calculer l'empreinte carbone d'un déplacement professionnel ?",
                "",
                ("bilan-carbone",),
                (
                    "Le simulateur de l'ADEME donne les facteurs d'émission par mode de "
                    "transport ; l'outil de notes de frais les affichera bientôt.",
                ),
            ),
            Ask(
                "Existe-t-il une aide pour le covoiturage domicile-travail ?",
                "",
                ("covoiturage", "mobilité"),
                (
                    "Oui, le forfait mobilités durables couvre le covoiturage jusqu'à 600 € par "
                    "an, à demander dans le SIRH.",
                ),
            ),
        ),
        experts=("Amélioration continue",),
    ),
    "innovation": Bank(
        fr=(
            Ask(
                "Comment proposer une idée au comité innovation ?",
                "",
                ("idées",),
                (
                    "Remplis la fiche idée d'une page (problème, solution, premier test) dans "
                    "l'onglet Fichiers : le comité se réunit chaque mois.",
                ),
            ),
            Ask(
                "Quels outils pour prototyper rapidement une application ?",
                "",
                ("prototypage",),
                (
                    "Des maquettes papier d'abord, puis Figma pour les écrans : une semaine "
                    "suffit pour tester avec de vrais utilisateurs.",
                ),
            ),
        ),
        experts=("Innovation",),
    ),
}
TRADE = Bank(  # any trade community, about its skills and projects
    fr=(
        Ask(
            "Qui a de l'expérience en « {skill} » pour relire une proposition ?",
            "",
            ("{skill}",),
            (
                "Je pratique « {skill} » depuis plusieurs années : envoie-moi ton dossier, on "
                "cale une heure cette semaine.",
                "Je peux relire aussi, j'ai fait la même démarche l'an dernier.",
            ),
        ),
        Ask(
            "Où trouver la documentation à jour sur {project} ?",
            "",
            ("documentation",),
            (
                "Dans l'espace du projet, onglet Fichiers : la version de référence est le PDF "
                "daté le plus récent.",
            ),
        ),
        Ask(
            "Comment s'organise le relais sur {project} pendant les congés d'été ?",
            "",
            ("organisation",),
            (
                "Chacun note son binôme dans le planning partagé avant le 15 juin ; le chef de "
                "projet valide la couverture.",
            ),
        ),
        Ask(
            "Existe-t-il un modèle de compte rendu pour les revues de {project} ?",
            "",
            ("modèles",),
            ("Oui, dans l'onglet Fichiers de la communauté : « Trame de revue ».",),
        ),
    ),
    en=(
        Ask(
            "Who has experience with {skill} and could review a proposal?",
            "",
            ("{skill}",),
            ("I have worked with {skill} for years: send it over and let's book an hour.",),
        ),
        Ask(
            "Where is the latest documentation on {project}?",
            "",
            ("documentation",),
            ("In the project space, under Files: the latest dated PDF is the reference.",),
        ),
    ),
)
# A trade's own questions, by department (its community has the department's name).
TRADES: dict[str, Bank] = {
    "Finance": Bank(
        fr=(
            Ask(
                "Quelle est la date limite de saisie pour la clôture mensuelle ?",
                "",
                ("clôture",),
                ("Le troisième jour ouvré du mois à midi ; le calendrier est épinglé ici.",),
            ),
            Ask(
                "Comment passer une écriture d'extourne dans SAP ?",
                "",
                ("sap", "comptabilité"),
                (
                    "Transaction FB08 avec le motif 02 et la date du premier jour de la période "
                    "suivante.",
                ),
            ),
        ),
        experts=("Clôture comptable", "Comptabilité générale", "SAP"),
    ),
    "Production": Bank(
        fr=(
            Ask(
                "Comment déclarer une panne dans la GMAO depuis la ligne ?",
                "",
                ("gmao", "maintenance"),
                (
                    "Depuis la tablette du poste : « Nouvelle demande », photo de la machine, "
                    "niveau d'urgence. La maintenance est prévenue tout de suite.",
                ),
            ),
            Ask(
                "Quelle fréquence de maintenance préventive pour les presses ?",
                "",
                ("maintenance-préventive",),
                (
                    "Graissage chaque semaine, contrôle complet tous les trois mois ; le plan "
                    "est dans la GMAO.",
                ),
            ),
            Ask(
                "Qui valide un changement de paramètre sur la ligne 3 ?",
                "",
                ("ligne-3", "qualité"),
                ("Le chef d'atelier, après avis des méthodes ; tout changement est tracé.",),
            ),
        ),
        experts=("Maintenance préventive", "GMAO", "Conduite de ligne", "Lean manufacturing"),
    ),
    "Qualité": Bank(
        fr=(
            Ask(
                "Comment rédiger un 8D pour une réclamation client ?",
                "",
                ("8d", "réclamations"),
                (
                    "Le modèle est dans le système qualité. L'essentiel : une action de "
                    "confinement sous 24 h, puis les causes racines avec un 5 pourquoi.",
                ),
            ),
            Ask(
                "Audit ISO 9001 : quels documents préparer ?",
                "",
                ("iso-9001", "audit"),
                (
                    "La revue de direction, les indicateurs de processus, les actions "
                    "correctives de l'année et les enregistrements de formation.",
                ),
            ),
        ),
        experts=("ISO 9001", "Audit qualité", "Méthode 8D", "Management de la qualité"),
    ),
    "Ventes": Bank(
        fr=(
            Ask(
                "Comment créer une opportunité dans Salesforce pour un client existant ?",
                "",
                ("salesforce", "crm"),
                (
                    "Depuis la fiche du compte : Opportunités > Nouvelle. Ne crée pas de second "
                    "compte, sinon l'historique est perdu.",
                ),
            ),
            Ask(
                "Peut-on accorder une remise de plus de 15 % sans validation ?",
                "",
                ("remises",),
                ("Non : au-delà de 15 %, la direction commerciale valide dans le CRM.",),
            ),
            Ask(
                "Quel Incoterm proposer pour une première commande en Allemagne ?",
                "",
                ("incoterms", "export"),
                ("DAP en général : nous livrons, le client dédouane s'il y a lieu.",),
            ),
        ),
        experts=("CRM", "Salesforce", "Négociation", "Incoterms"),
    ),
    "Recherche & Développement": Bank(
        fr=(
            Ask(
                "Rebase ou merge pour mettre ma branche à jour avec main ?",
                "",
                ("git",),
                (
                    "Rebase tant que la branche n'est qu'à toi (historique lisible), merge dès "
                    "qu'elle est partagée.",
                ),
            ),
            Ask(
                "Comment limiter la mémoire d'un pod Kubernetes ?",
                "",
                ("kubernetes",),
                (
                    "Avec `resources.limits.memory` dans le déploiement, et une `request` "
                    "réaliste pour que l'ordonnanceur place bien le pod.",
                ),
            ),
            Ask(
                "Comment préparer un essai CEM sur la nouvelle carte ?",
                "",
                ("cem", "électronique"),
                (
                    "Un pré-scan au labo d'abord : on corrige là les défauts les plus gros "
                    "avant de réserver le laboratoire accrédité.",
                ),
            ),
        ),
        experts=("Git", "Kubernetes", "Docker", "Compatibilité CEM", "Systèmes embarqués"),
    ),
    "Service client": Bank(
        fr=(
            Ask(
                "Comment escalader un ticket au support niveau 2 ?",
                "",
                ("zendesk", "support"),
                (
                    "Dans Zendesk, change le groupe en « Niveau 2 » avec un résumé du diagnostic "
                    "déjà fait : ils répondent dans la journée.",
                ),
            ),
            Ask(
                "Quel délai de réponse promettre à un client sous contrat de maintenance ?",
                "",
                ("sla", "contrats"),
                ("Quatre heures ouvrées pour une panne bloquante, deux jours sinon.",),
            ),
        ),
        experts=("Support technique", "Zendesk", "Relation client", "Support niveau 2"),
    ),
    "Juridique": Bank(
        fr=(
            Ask(
                "Faut-il un accord de confidentialité avant un premier rendez-vous client ?",
                "",
                ("nda", "contrats"),
                ("Dès que tu montres des plans ou des prix : le modèle est sur l'intranet.",),
            ),
        ),
        experts=("Droit des contrats", "Propriété intellectuelle"),
    ),
    "Marketing & Communication": Bank(
        fr=(
            Ask(
                "Où trouver la charte graphique à jour ?",
                "",
                ("charte-graphique",),
                ("Dans l'onglet Fichiers, version de janvier : logos, couleurs et modèles.",),
            ),
        ),
        experts=("Stratégie de marque", "Marketing digital"),
    ),
    "Ressources humaines": HR,
    "Systèmes d'information": IT,
}
PROJECT = Bank(
    fr=(
        Ask(
            "Qui valide les changements de périmètre sur {project} ?",
            "",
            ("comité-de-pilotage",),
            (
                "Le comité de pilotage, sur proposition du chef de projet : remplis la fiche de "
                "demande de changement, elle passe au comité suivant.",
            ),
        ),
        Ask(
            "Où sont les comptes rendus des comités de pilotage ?",
            "",
            ("comptes-rendus",),
            ("Onglet Fichiers, dossier « Comités » : un PDF par séance.",),
        ),
        Ask(
            "Comment accéder à l'environnement de test de {project} ?",
            "",
            ("recette", "accès"),
            (
                "Demande un compte au support avec le code projet ; l'adresse est dans la fiche "
                "projet épinglée.",
            ),
        ),
        Ask(
            "Quand démarre la recette de la phase {n} ?",
            "",
            ("recette", "planning"),
            ("Le planning à jour est épinglé : la recette démarre dès la livraison du lot.",),
        ),
        Ask(
            "Qui sont les utilisateurs clés de {project} sur chaque site ?",
            "",
            ("utilisateurs-clés",),
            ("La liste est dans la fiche projet, avec leurs disponibilités pour la recette.",),
        ),
    ),
    en=(
        Ask(
            "Who approves scope changes on {project}?",
            "",
            ("steering-committee",),
            ("The steering committee, on the project manager's proposal.",),
        ),
        Ask(
            "Where are the steering committee minutes?",
            "",
            ("minutes",),
            ('Under Files, in the "Committees" folder.',),
        ),
    ),
    experts=("Gestion de projet", "Méthodes agiles"),
)
CUSTOMER = Bank(  # asked by the customers, and by the staff who relay their questions
    fr=(
        Ask(
            "Le {product} est-il compatible avec Modbus TCP ?",
            "",
            ("modbus", "compatibilité"),
            ("Oui, depuis la version 4.2 du firmware : Paramètres > Communication > Modbus TCP.",),
        ),
        Ask(
            "Comment mettre à jour le firmware du {product} à distance ?",
            "Nous avons {n} appareils sur plusieurs sites, impossible d'aller sur place pour "
            "chacun.",
            ("firmware", "mise-à-jour"),
            (
                "Depuis le portail client, onglet Parc : sélectionnez les appareils puis "
                "« Mettre à jour ». La mise à jour se fait la nuit, appareil par appareil.",
            ),
        ),
        Ask(
            "Quelle est l'autonomie de la batterie du {product} par grand froid ?",
            "",
            ("batterie",),
            (
                "Comptez 30 % de moins sous -10 °C. Le mode économie d'énergie (Paramètres > "
                "Batterie) compense en grande partie.",
            ),
        ),
        Ask(
            "Peut-on exporter les mesures du {product} en CSV ?",
            "",
            ("export", "portail-client"),
            ("Oui : portail client > Mesures > Exporter, jusqu'à douze mois d'historique.",),
        ),
        Ask(
            "Quelle est la durée de garantie du {product} ?",
            "",
            ("garantie",),
            ("Deux ans, cinq avec le contrat de maintenance.",),
        ),
        Ask(
            "Comment renvoyer un {product} défectueux ?",
            "",
            ("sav", "retours"),
            (
                "Déclarez-le dans le portail client (Parc > Signaler un défaut) : vous recevez "
                "l'étiquette de retour et un appareil de prêt part sous 48 h.",
            ),
        ),
    ),
    en=(
        Ask(
            "Does the {product} support Modbus TCP?",
            "",
            ("modbus",),
            ("Yes, since firmware 4.2: Settings > Communication > Modbus TCP.",),
        ),
        Ask(
            "How do we update the {product} firmware remotely?",
            "We run {n} units on several sites.",
            ("firmware",),
            ('From the customer portal: Fleet, select the units, then "Update".',),
        ),
        Ask(
            "Can the {product} send SMS alerts when it goes offline?",
            "",
            ("alerts",),
            ("Not yet: the portal sends e-mail alerts, and SMS alerts come with release 4.3.",),
        ),
        Ask(
            "What is the warranty period for the {product}?",
            "",
            ("warranty",),
            ("Two years, five with a maintenance contract.",),
        ),
    ),
    experts=("Support technique", "Support niveau 2", "Systèmes embarqués", "Capteurs"),
)
# The text of some questions that have none of their own.
CONTEXTS = {
    "fr": (
        "Je n'ai rien trouvé sur l'intranet. Quelqu'un a-t-il déjà eu le cas ?",
        "**Contexte** : je viens d'arriver dans l'équipe et je découvre encore nos outils. "
        "Merci d'avance !",
        "J'ai déjà essayé :\n\n- la FAQ de l'intranet\n- de demander autour de moi\n\n"
        "Sans succès pour l'instant.",
        "C'est assez urgent : j'en ai besoin **avant vendredi**.",
        "La question revient souvent dans l'équipe, une réponse ici servira à tout le monde.",
    ),
    "en": (
        "I couldn't find anything on the intranet. Has anyone had the same case?",
        "**Context**: I'm new to the team and still finding my way around our tools.",
        "What I have tried so far:\n\n- the intranet FAQ\n- asking around\n\nNo luck yet.",
    ),
}
CONTEXT_SHARE = 0.3  # of the questions without a text of their own
# Answers for any question, after its own ones.
GENERAL_ANSWERS = {
    "fr": (
        "On a eu le même cas le mois dernier : le plus simple a été de passer par le support, "
        "réglé en une journée.",
        "Regarde la page dédiée sur l'intranet, elle a été mise à jour récemment.",
        "De notre côté, on procède comme ça :\n\n1. vérifier la procédure en vigueur\n"
        "2. demander l'accord du manager\n3. tracer la décision dans l'outil\n\nÇa évite les "
        "allers-retours.",
        "Je ne suis pas sûr que ce soit encore valable, mais l'an dernier la règle était la "
        "même pour tous les sites.",
        "Je t'envoie en message le contact de la personne qui s'en occupe, elle te répondra "
        "précisément.",
        "Même question de notre côté : on attend une réponse officielle, je partage ici dès "
        "que je l'ai.",
        "Ça dépend du contexte, mais en général la réponse est dans la procédure du service "
        "concerné.",
    ),
    "en": (
        "We had the same case last month: the service desk sorted it out within a day.",
        "Check the dedicated intranet page, it was updated recently.",
        "Here is how we do it:\n\n1. check the current procedure\n2. get your manager's "
        "approval\n3. log the decision in the tool",
        "I'll message you the contact of the person in charge, they will know for sure.",
    ),
}
# Comments under answers: by the asker, then by others.
THANKS = {
    "fr": (
        "Merci, ça a marché !",
        "Parfait, merci pour la réponse rapide.",
        "Merci ! Tu aurais le lien exact ?",
        "Est-ce que ça vaut aussi pour les sites à l'étranger ?",
    ),
    "en": ("Thanks, that worked!", "Thanks! Do you have the exact link?"),
}
REMARKS = {
    "fr": (
        "Je confirme, même solution chez nous.",
        "Attention, la procédure a changé en janvier.",
        "+1, c'est ce qu'on fait aussi.",
        "Bonne réponse, je la garde de côté.",
    ),
    "en": ("Confirmed, same fix here.", "Careful: the procedure changed in January."),
}
# Company-wide subjects, and the banks of the communities' kinds, with their weights.
COMPANY_BANKS = ((IT, 3.0), (HR, 3.0), (EXPENSES, 2.0), (WORKPLACE, 2.0), (WHO_KNOWS, 1.5))
KIND_WEIGHTS = {Kind.HELP: 3.0, Kind.CUSTOMER: 1.5, Kind.PRACTICE: 1.2}


# --- Articles and case studies: phrase banks -------------------------------------------------
# The same slots as the questions. An article's text is Markdown blocks separated by blank
# lines (none inside a code block): its earlier revisions are its first blocks. A case
# study has the texts of its five sections instead (CASE_STUDY_SECTIONS, whose headings
# come in its language): its earlier revisions have the first sections filled.


@dataclass(frozen=True)
class Page:
    """An article (a how-to guide or a reference page): its title, its text and its tags;
    or a case study: its title, the text of each of its five sections and its tags."""

    title: str
    body: str = ""
    tags: tuple[str, ...] = ()
    sections: tuple[str, ...] = ()


@dataclass(frozen=True)
class Shelf:
    """Articles or case studies on one subject in French and in English, and the
    directory topics of the people who write them best."""

    fr: tuple[Page, ...]
    en: tuple[Page, ...] = ()
    experts: tuple[str, ...] = ()

    def pages(self, language: str) -> tuple[str, tuple[Page, ...]]:
        """The pages in ``language``, or in the other one when it has none."""
        if (language == "en" and self.en) or not self.fr:
            return "en", self.en
        return "fr", self.fr


EXPENSE_GUIDES = Shelf(
    fr=(
        Page(
            "Notes de frais : le guide pas à pas",
            "Ce guide reprend les étapes d'une note de frais, de la dépense au remboursement."
            "\n\n## Avant de partir\n\nVérifie le barème de la politique voyages : 25 € par "
            "repas en région, 30 € à Paris et à l'étranger. Au-delà, demande l'accord de ton "
            "manager **avant** la dépense.\n\n## Déclarer\n\n1. Photographie le justificatif "
            "dans l'application de notes de frais, le jour même.\n2. Choisis la catégorie "
            "(repas, hébergement, transport, indemnités kilométriques).\n3. Pour une mission "
            "refacturée, renseigne le code affaire du client sur chaque ligne.\n\n## Après\n\n"
            "Ton manager valide, puis le virement part avec le cycle suivant : sous 10 jours "
            "ouvrés en général. La photo vaut original : les tickets papier se jettent une fois "
            "remboursé.",
            ("notes-de-frais", "guide"),
        ),
        Page(
            "Barème des frais de déplacement",
            "Les montants remboursés sur justificatif, selon la politique voyages en vigueur."
            "\n\n| Dépense | En région | Paris et étranger |\n|---|---|---|\n| Repas | 25 € | "
            "30 € |\n| Hôtel, petit-déjeuner compris | 110 € | 150 € |\n| Taxi | sur accord du "
            "manager | sur accord du manager |\n\nLe train se prend en seconde classe sous trois "
            "heures de trajet, en première au-delà. Les indemnités kilométriques suivent le "
            "barème fiscal, depuis l'adresse de ton site.\n\nAu-delà de ces montants, l'accord "
            "préalable du manager est nécessaire.",
            ("notes-de-frais", "déplacements", "barème"),
        ),
    ),
    en=(
        Page(
            "Expense reports: a step-by-step guide",
            "From the expense to the refund, in three steps.\n\n## Before you travel\n\nCheck "
            "the travel policy: €25 per meal in the regions, €30 in Paris and abroad. Above "
            "that, get your manager's approval **first**.\n\n## Claiming\n\n1. Take a photo of "
            "the receipt in the expense app, on the day.\n2. Pick the category (meal, hotel, "
            "transport, mileage).\n3. For a mission billed to a customer, add its job code on "
            "every line.\n\n## Afterwards\n\nOnce your manager approves, the refund comes with "
            "the next cycle, within ten working days.",
            ("expenses", "guide"),
        ),
    ),
    experts=EXPENSES.experts,
)
IT_GUIDES = Shelf(
    fr=(
        Page(
            "Se connecter au VPN en télétravail",
            "Le VPN donne accès aux applications internes (SAP, SIRH, partages réseau) depuis "
            "l'extérieur. Il ne fonctionne que sur les postes gérés par la DSI.\n\n## Se "
            "connecter\n\n1. Ouvre le client VPN depuis la barre des tâches.\n2. Choisis le "
            "profil « Entreprise » et valide la double authentification sur ton téléphone.\n3. "
            "Attends l'icône verte : les lecteurs réseau se reconnectent seuls.\n\n## Si la "
            "connexion coupe\n\n- Vérifie que le client est en version 5.3 ou plus (Portail "
            "d'entreprise).\n- Redémarre ta box si elle est en « double NAT ».\n- Teste en "
            "partage de connexion 4G pour savoir si la box est en cause.\n\nSi rien n'y fait, "
            "appelle le support au 4444 avec l'heure des coupures.",
            ("vpn", "télétravail", "guide"),
        ),
        Page(
            "Sécurité du poste de travail : les règles essentielles",
            "Ces règles valent pour tous les postes, au bureau comme en télétravail.\n\n| Règle "
            "| Pourquoi |\n|---|---|\n| Verrouiller sa session dès qu'on s'absente | Un poste "
            "ouvert donne accès à tout |\n| Installer les logiciels par le Portail d'entreprise "
            "| Ils sont vérifiés et mis à jour |\n| Signaler les e-mails suspects (bouton "
            "« Signaler ») | L'équipe sécurité les bloque pour tous |\n| Chiffrer les clés USB "
            "avec BitLocker To Go | Une clé perdue ne livre rien |\n\nEn cas de doute, le "
            "support répond au 4444, jour et nuit.",
            ("cybersécurité", "poste-de-travail"),
        ),
    ),
    en=(
        Page(
            "Connecting to the VPN from home",
            "The VPN gives access to internal applications (SAP, the HR portal, network "
            "drives) from outside. It only works on laptops managed by IT.\n\n## Connecting\n\n"
            '1. Open the VPN client from the taskbar.\n2. Pick the "Company" profile and '
            "approve the sign-in on your phone.\n3. Wait for the green icon: network drives "
            "reconnect by themselves.\n\n## If it keeps dropping\n\n- Make sure the client is "
            "version 5.3 or later (Company Portal).\n- Try your phone's connection to find out "
            "whether your router is the cause.\n\nStill stuck? Call the service desk on 4444.",
            ("vpn", "remote-work"),
        ),
    ),
    experts=IT.experts,
)
HR_GUIDES = Shelf(
    fr=(
        Page(
            "Accueillir un nouvel arrivant : la checklist du manager",
            "Le parcours d'onboarding digital envoie cette liste au manager quinze jours avant "
            "l'arrivée. La voici en entier, pour s'organiser plus tôt.\n\n## Deux semaines "
            "avant\n\n- Commander le poste de travail dans le portail du support\n- Demander "
            "le badge et les accès aux applications\n- Désigner un parrain ou une marraine "
            "dans l'équipe\n\n## Le premier jour\n\nLes RH accueillent les nouveaux arrivants "
            "le matin ; l'équipe prend le relais à midi. Prévois un déjeuner d'équipe la "
            "première semaine.\n\n## Le premier mois\n\nUn point chaque semaine avec le "
            "manager, et un rapport d'étonnement à la fin du mois : ce qui surprend un regard "
            "neuf est souvent ce qu'il faut améliorer.",
            ("onboarding", "checklist"),
        ),
        Page(
            "Télétravail : ce que prévoit l'accord",
            "L'accord télétravail s'applique à tous les salariés dont le poste le permet.\n\n"
            "| Point | Ce que dit l'accord |\n|---|---|\n| Nombre de jours | Jusqu'à deux par "
            "semaine, à convenir avec le manager |\n| Demande | Formulaire du SIRH, validé par "
            "le manager |\n| Équipement | Écran et casque fournis sur demande |\n| Indemnité | "
            "2,50 € par jour télétravaillé, versée avec la paie |\n\nCertains postes en "
            "production ne sont pas éligibles : la liste est annexée à l'accord. Les questions "
            "vont aux RH de ton site.",
            ("télétravail", "accord"),
        ),
    ),
    en=(
        Page(
            "Welcoming a new team member: the manager's checklist",
            "The onboarding programme sends this list two weeks before a newcomer arrives.\n\n"
            "## Two weeks before\n\n- Order the laptop from the service desk portal\n- Request "
            "the badge and application accounts\n- Choose a buddy in the team\n\n## The first "
            "day\n\nHR runs the welcome morning; the team takes over at lunch.\n\n## The first "
            "month\n\nA weekly check-in with the manager, and a fresh-eyes report at the end "
            "of the month.",
            ("onboarding", "checklist"),
        ),
    ),
    experts=HR.experts,
)
WORKPLACE_GUIDES = Shelf(
    fr=(
        Page(
            "Réserver une salle ou un bureau sur un autre site",
            "Les salles de réunion de tous les sites se réservent depuis Outlook, les bureaux "
            "partagés depuis l'application de réservation.\n\n## Une salle\n\n1. Dans "
            "l'invitation Outlook, clique sur « Ajouter une salle ».\n2. Choisis le site, puis "
            "une salle selon sa capacité et son équipement (écran, visio).\n3. La salle accepte "
            "seule l'invitation si elle est libre.\n\n## Un bureau\n\nL'application montre les "
            "bureaux libres de chaque étage. Si tu viens à {site} avec des visiteurs, préviens "
            "l'accueil la veille pour leurs badges.",
            ("salles", "outlook", "guide"),
        ),
        Page(
            "Données personnelles : ce qu'on peut partager, et comment",
            "Les règles RGPD du quotidien, validées par l'équipe conformité.\n\n| Situation | "
            "Règle |\n|---|---|\n| Liste de contacts clients partagée | Espace à accès "
            "restreint, seulement les colonnes utiles |\n| CV de candidats non retenus | Deux "
            "ans au plus, avec leur accord |\n| Fichier envoyé à un prestataire | Contrat avec "
            "clause RGPD, envoi chiffré |\n| Photo d'un collègue dans une publication | Avec "
            "son accord |\n\nTout nouveau traitement de données personnelles figure au "
            "registre : l'équipe conformité aide à le remplir.",
            ("rgpd", "données-personnelles"),
        ),
    ),
    en=(
        Page(
            "Booking a meeting room at another site",
            "Every meeting room on every site can be booked from Outlook.\n\n1. In the Outlook "
            'invitation, click "Add a room".\n2. Pick the site, then a room by size and '
            "equipment (screen, video).\n3. The room accepts the invitation by itself when it "
            "is free.\n\nComing to {site} with visitors? Tell the front desk the day before, "
            "so that their badges are ready.",
            ("rooms", "outlook"),
        ),
    ),
    experts=WORKPLACE.experts,
)
ESSAIM_GUIDES = Shelf(  # in the help desk communities
    fr=(
        Page(
            "Bien poser une question sur Essaim",
            "Une question bien posée reçoit une réponse plus vite, et sert ensuite à d'autres."
            "\n\n## Avant de poser\n\nCherche d'abord : la question a peut-être déjà une "
            "réponse acceptée.\n\n## En posant\n\n- Un titre qui est une vraie question, "
            "précise\n- Le contexte en deux ou trois phrases : ce que tu as essayé, ce que tu "
            "attends\n- Une à trois étiquettes : elles amènent la question aux personnes qui "
            "connaissent le sujet\n\n## Après\n\nAccepte la réponse qui t'a aidé : elle remonte "
            "en tête et compte comme expertise pour qui l'a écrite.",
            ("questions", "guide"),
        ),
        Page(
            "Transformer une bonne réponse en article",
            "Quand une question revient souvent, sa réponse mérite un article.\n\n1. Ouvre la "
            "question et choisis « Transformer en article » : un brouillon reprend la question "
            "et la meilleure réponse.\n2. Relis, complète, puis publie : l'auteur de la réponse "
            "est co-auteur.\n3. Fixe une date de relecture si le contenu risque de vieillir : "
            "les auteurs seront prévenus ce jour-là.\n\nLes lecteurs indiquent ensuite si "
            "l'article leur a été utile.",
            ("articles", "questions"),
        ),
    ),
    en=(
        Page(
            "How to ask a good question",
            "A well-asked question gets an answer sooner, and helps the next person too.\n\n- "
            "Search first: it may already have an accepted answer.\n- Make the title a real, "
            "precise question.\n- Add one to three tags: they bring the question to the people "
            "who know the subject.\n\nOnce helped, accept the answer: it moves to the top and "
            "counts as its author's expertise.",
            ("questions", "guide"),
        ),
    ),
    experts=ESSAIM.experts,
)
PRACTICE_GUIDES = Shelf(  # any community of practice, about its subjects
    fr=(
        Page(
            "{skill} : par où commencer",
            "Ce que la communauté conseille à qui découvre {skill}.\n\n## Se former\n\nLa "
            "formation interne d'une demi-journée pose les bases ; l'inscription se fait dans "
            "le SIRH.\n\n## Pratiquer\n\nChoisis un vrai cas de ton équipe, petit et utile : "
            "c'est là que ça rentre. Pose tes questions ici, quelqu'un a presque toujours déjà "
            "eu le cas.\n\n## Aller plus loin\n\nLes supports des ateliers passés sont dans "
            "l'onglet Fichiers, et un atelier pratique a lieu chaque mois.",
            ("débuter",),
        ),
        Page(
            "{skill} : nos bonnes pratiques",
            "Les règles que la communauté a retenues de plusieurs années de pratique de "
            "{skill}.\n\n1. Commencer petit : un périmètre, une équipe, un résultat mesuré.\n"
            "2. Documenter ce qui marche ici même, avec des exemples.\n3. Faire relire par une "
            "personne plus expérimentée avant de généraliser.\n4. Partager les échecs autant "
            "que les réussites.\n\nCes pratiques sont revues chaque année : propose tes ajouts "
            "aux animateurs de la communauté.",
            ("bonnes-pratiques",),
        ),
    ),
    en=(
        Page(
            "Getting started with {skill}",
            "What this community recommends to anyone new to {skill}.\n\n## Learn\n\nThe "
            "internal half-day course covers the basics; sign up in the HR portal.\n\n## "
            "Practise\n\nPick a real, small case from your team. Ask your questions here: "
            "someone has almost always had the same case.\n\n## Go further\n\nMaterials from "
            "past workshops are under Files, and a hands-on workshop runs every month.",
            ("getting-started",),
        ),
    ),
)
# A practice's own guides, by the practice's first tag.
PRACTICE_OWN_GUIDES: dict[str, Shelf] = {
    "python": Shelf(
        fr=(
            Page(
                "Rassembler les onglets d'un classeur Excel avec pandas",
                "Le cas revient souvent : un classeur avec un onglet par site, à rassembler "
                "dans un seul tableau.\n\n```python\nimport pandas as pd\nonglets = "
                'pd.read_excel("ventes.xlsx", sheet_name=None)\nventes = pd.concat(onglets.'
                'values(), keys=onglets.keys(), names=["site", "ligne"])\n```\n\n'
                "`sheet_name=None` renvoie un dictionnaire onglet → DataFrame ; `keys` garde le "
                "nom de l'onglet dans l'index.\n\nPour des fichiers de plusieurs Go, Polars fait "
                "la même chose bien plus vite.",
                ("pandas", "excel"),
            ),
        ),
        en=(
            Page(
                "Combining every sheet of an Excel workbook with pandas",
                "A common case: one sheet per site, to be combined into one table.\n\n```python"
                '\nimport pandas as pd\nsheets = pd.read_excel("sales.xlsx", sheet_name=None)\n'
                'sales = pd.concat(sheets.values(), keys=sheets.keys(), names=["site", "row"])'
                "\n```\n\n`sheet_name=None` returns a dict of DataFrames, one per sheet; `keys` "
                "keeps the sheet's name in the index.",
                ("pandas", "excel"),
            ),
        ),
        experts=("Python",),
    ),
    "lean": Shelf(
        fr=(
            Page(
                "Mener un chantier 5S en cinq étapes",
                "La démarche que nos ateliers suivent, éprouvée sur une dizaine de chantiers."
                "\n\n1. **Trier** : ne garder au poste que ce qui sert chaque semaine.\n2. "
                "**Ranger** : une place pour chaque chose, marquée au sol ou sur le panneau.\n"
                "3. **Nettoyer** : nettoyer, c'est inspecter ; noter chaque anomalie trouvée.\n"
                "4. **Standardiser** : photo de l'état de référence affichée au poste.\n5. "
                "**Respecter** : un audit de dix minutes chaque semaine, par l'équipe "
                "elle-même.\n\nCommencez par une zone que l'équipe trouve pénible : les photos "
                "avant/après font le reste.",
                ("5s", "guide"),
            ),
        ),
        experts=("Lean manufacturing", "Amélioration continue"),
    ),
}
TRADE_GUIDES = Shelf(  # any trade community, about its skills and projects
    fr=(
        Page(
            "Fiche projet : {project}",
            "La fiche de référence du projet, tenue à jour par l'équipe.\n\n| Rubrique | Où la "
            "trouver |\n|---|---|\n| Objectifs et périmètre | Note de cadrage, onglet Fichiers "
            "|\n| Planning | Épinglé en haut du fil, mis à jour après chaque comité |\n| "
            "Comptes rendus | Dossier « Comités » de l'onglet Fichiers |\n| Environnement de "
            "test | Compte à demander au support avec le code projet |\n\nPour toute question "
            "sur {project}, pose-la dans cette communauté : l'équipe y répond chaque jour.",
            ("fiche-projet", "{project}"),
        ),
        Page(
            "Notre méthode en « {skill} »",
            "Comment l'équipe travaille en « {skill} », pour les nouveaux arrivants et les "
            "équipes voisines.\n\n## Le principe\n\nUne personne référente par dossier, et une "
            "relecture par un pair avant tout envoi.\n\n## Les étapes\n\n1. Cadrer le besoin "
            "avec le demandeur, par écrit.\n2. Produire une première version en une semaine au "
            "plus.\n3. Faire relire, corriger, puis archiver dans l'onglet Fichiers.\n\n## Qui "
            "contacter\n\nLes personnes qui déclarent « {skill} » dans l'annuaire : cherche "
            "« qui connaît {skill} ».",
            ("méthode", "{skill}"),
        ),
    ),
    en=(
        Page(
            "{project}: reference sheet",
            "The project's reference sheet, kept up to date by the team.\n\n| Topic | Where "
            "to find it |\n|---|---|\n| Goals and scope | Scoping note, under Files |\n| "
            'Schedule | Pinned at the top of the feed |\n| Minutes | "Committees" folder, '
            "under Files |\n\nAny question on {project}? Ask it in this community: the team "
            "answers every day.",
            ("reference", "{project}"),
        ),
    ),
)
PROJECT_GUIDES = Shelf(
    fr=(
        Page(
            "{project} : qui fait quoi",
            "Les rôles du projet {project}, pour savoir à qui s'adresser.\n\n| Rôle | "
            "Responsabilités |\n|---|---|\n| Sponsor | Arbitre le périmètre et le budget |\n| "
            "Chef de projet | Tient le planning, prépare les comités |\n| Utilisateurs clés | "
            "Relaient les besoins de leur site, valident les livrables |\n| Comité de pilotage "
            "| Décide des changements de périmètre, chaque mois |\n\nLes noms sont dans la "
            "fiche projet épinglée. Une demande de changement passe par le formulaire, jamais "
            "directement à l'équipe.",
            ("organisation", "comité-de-pilotage"),
        ),
        Page(
            "{project} : suivre l'avancement et les décisions",
            "Tout ce qui concerne l'avancement de {project} est dans cette communauté.\n\n1. "
            "**Le planning** est épinglé en haut du fil, mis à jour après chaque comité.\n2. "
            "**Les comptes rendus** des comités sont dans l'onglet Fichiers, dossier "
            "« Comités ».\n3. **Les décisions** sont publiées comme annonces : active les "
            "notifications de la communauté pour ne rien manquer.\n\nUne question sur une "
            "décision ? Pose-la ici plutôt que par e-mail : la réponse servira à tous.",
            ("planning", "comptes-rendus"),
        ),
    ),
    en=(
        Page(
            "{project}: who does what",
            "The roles on {project}, so that you know whom to ask.\n\n| Role | "
            "Responsibilities |\n|---|---|\n| Sponsor | Decides on scope and budget |\n| "
            "Project manager | Keeps the schedule, prepares the committees |\n| Key users | "
            "Bring their site's needs, approve the deliverables |\n\nNames are on the pinned "
            "project sheet. Scope changes go through the change request form.",
            ("organisation", "steering-committee"),
        ),
    ),
    experts=PROJECT.experts,
)
CUSTOMER_GUIDES = Shelf(  # for the customers, by the staff
    fr=(
        Page(
            "Mettre à jour le firmware du {product} à distance",
            "Depuis le portail client, la mise à jour se fait sans déplacement, pour un "
            "appareil ou tout un parc.\n\n1. Ouvrez le portail client, onglet **Parc**.\n2. "
            "Sélectionnez les appareils à mettre à jour (filtre par site possible).\n3. "
            "Cliquez sur « Mettre à jour » et choisissez la version.\n\nLa mise à jour "
            "s'installe la nuit suivante, appareil par appareil ; un appareil qui n'a pas pu "
            "être mis à jour réessaie la nuit d'après.\n\nL'historique des versions est dans "
            "la fiche de chaque appareil.",
            ("firmware", "mise-à-jour", "guide"),
        ),
        Page(
            "{product} : fiche technique",
            "Les caractéristiques principales, à jour de la dernière version du firmware.\n\n| "
            "Caractéristique | Valeur |\n|---|---|\n| Communication | Modbus TCP, 4G, Wi-Fi |"
            "\n| Autonomie | Jusqu'à cinq ans ; 30 % de moins sous -10 °C |\n| Garantie | "
            "Deux ans, cinq avec le contrat de maintenance |\n| Export des mesures | CSV, douze "
            "mois d'historique |\n\nLa notice complète est dans l'onglet Fichiers.",
            ("fiche-technique",),
        ),
    ),
    en=(
        Page(
            "Updating the {product} firmware remotely",
            "From the customer portal, one unit or a whole fleet is updated without a site "
            "visit.\n\n1. Open the customer portal, **Fleet** tab.\n2. Select the units to "
            'update (you can filter by site).\n3. Click "Update" and pick the version.\n\n'
            "The update installs the next night, unit by unit; a unit that could not be "
            "updated tries again the night after.",
            ("firmware", "guide"),
        ),
        Page(
            "{product}: data sheet",
            "The main features, as of the latest firmware.\n\n| Feature | Value |\n|---|---|\n"
            "| Connectivity | Modbus TCP, 4G, Wi-Fi |\n| Battery life | Up to five years; 30 % "
            "less below -10 °C |\n| Warranty | Two years, five with a maintenance contract |\n"
            "\nThe full manual is under Files.",
            ("data-sheet",),
        ),
    ),
    experts=CUSTOMER.experts,
)
# Case studies: context, problem, solution, results, lessons learned.
PROJECT_CASES = Shelf(
    fr=(
        Page(
            "{project} : retour d'expérience après {n} mois",
            tags=("retour-d-expérience", "{project}"),
            sections=(
                "Le projet {project} a démarré il y a {n} mois, avec une dizaine de personnes "
                "réparties entre {site} et le siège, et un utilisateur clé par site.",
                "À mi-parcours, le planning glissait de trois semaines. Les utilisateurs clés "
                "n'étaient disponibles qu'une demi-journée par semaine, et les décisions "
                "attendaient le comité de pilotage mensuel.",
                "Nous avons :\n\n- dégagé chaque utilisateur clé à 30 %, avec l'accord de son "
                "manager\n- remplacé le comité mensuel par un point de décision de trente "
                "minutes toutes les deux semaines\n- ouvert une communauté pour les questions, "
                "au lieu des e-mails",
                "Le jalon suivant a été tenu à la date prévue, avec {n}0 % de points ouverts en "
                "moins à la revue de fin de phase. Les questions posées dans la communauté ont "
                "évité une bonne partie des réunions de suivi.",
                "Le temps des utilisateurs clés se négocie au lancement, pas en cours de route. "
                "Un rythme de décision court compte plus que la taille du comité.",
            ),
        ),
        Page(
            "Embarquer les équipes dans {project} : retour d'expérience",
            tags=("conduite-du-changement", "{project}"),
            sections=(
                "{project} changeait les habitudes de travail de plusieurs équipes à {site}, "
                "qui n'avaient pas été consultées au lancement.",
                "Les premières présentations suscitaient plus d'inquiétude que d'adhésion : "
                "peu de monde aux ateliers, et les mêmes questions posées dix fois par e-mail.",
                "Un ambassadeur volontaire par équipe, des démonstrations de vingt minutes sur "
                "des cas réels, et une communauté où chaque question reçoit une réponse sous "
                "deux jours, reprise ensuite dans la foire aux questions.",
                "En trois mois, {n}0 % des personnes concernées avaient suivi au moins un "
                "atelier. Les questions ont afflué au début, puis diminué à mesure que les "
                "réponses étaient trouvées dans la communauté.",
                "Associer les équipes avant de décider, pas après. Des ambassadeurs choisis "
                "par leurs collègues sont plus écoutés que des relais désignés.",
            ),
        ),
    ),
    en=(
        Page(
            "{project}: lessons learned after {n} months",
            tags=("lessons-learned", "{project}"),
            sections=(
                "{project} started {n} months ago, with about ten people between {site} and "
                "headquarters, and one key user per site.",
                "Halfway through, the schedule had slipped by three weeks: key users had half "
                "a day a week for the project, and decisions waited for the monthly steering "
                "committee.",
                "We freed 30 % of each key user's time with their manager's agreement, "
                "replaced the monthly committee with a thirty-minute decision meeting every "
                "two weeks, and moved questions from e-mail to a community.",
                "The next milestone was met on the planned date, with {n}0 % fewer open issues "
                "at the end-of-phase review.",
                "Negotiate key users' time at kick-off, not halfway. A short decision cycle "
                "matters more than the size of the committee.",
            ),
        ),
    ),
    experts=PROJECT.experts,
)
PRACTICE_CASES = Shelf(
    fr=(
        Page(
            "Un pilote de trois mois sur {skill}",
            tags=("retour-d-expérience", "pilote"),
            sections=(
                "Notre équipe de {site} voulait essayer {skill} sur un périmètre réduit avant "
                "d'en parler plus largement. Nous avons choisi un processus pénible pour tous, "
                "traité chaque semaine.",
                "Le processus prenait une journée par semaine à deux personnes, avec des "
                "erreurs régulières et beaucoup d'allers-retours.",
                "Pendant trois mois, un binôme formé a accompagné l'équipe une heure par "
                "semaine, sur le vrai processus, avec un point d'étape mensuel ouvert à toute "
                "la communauté.",
                "Le processus prend maintenant une demi-journée, soit environ {n} heures "
                "gagnées chaque semaine, et les erreurs ont presque disparu. Deux autres "
                "équipes ont lancé le même pilote.",
                "Un vrai cas vaut mieux qu'une formation théorique. Mesurer avant de commencer, "
                "sinon le gain ne se démontre pas.",
            ),
        ),
        Page(
            "Étendre {skill} à tout un site : notre parcours",
            tags=("retour-d-expérience", "déploiement"),
            sections=(
                "Après un pilote réussi dans une équipe, le site de {site} a décidé d'étendre "
                "{skill} à ses {n} services.",
                "Ce qui marchait dans une équipe motivée s'essoufflait ailleurs : peu de temps, "
                "peu de relais, et l'impression d'une démarche imposée.",
                "Un référent volontaire par service, formé pendant deux jours ; une heure par "
                "mois d'échange entre référents dans cette communauté ; et le libre choix du "
                "premier chantier par chaque équipe.",
                "En six mois, tous les services ont mené au moins un chantier. Les référents "
                "publient ici leurs résultats, ce qui donne des idées aux autres.",
                "Des volontaires plutôt que des désignés, et laisser chaque équipe choisir son "
                "premier sujet.",
            ),
        ),
    ),
    en=(
        Page(
            "Three months with {skill}: what we learned",
            tags=("lessons-learned", "pilot"),
            sections=(
                "Our team in {site} wanted to try {skill} on a small scope before talking "
                "about it more widely, on a weekly process everyone found tedious.",
                "The process took two people a day every week, with regular mistakes and a lot "
                "of back and forth.",
                "For three months, a trained pair coached the team one hour a week on the real "
                "process, with a monthly review open to the whole community.",
                "The process now takes half a day, about {n} hours saved every week, and the "
                "mistakes have nearly gone. Two more teams have started the same pilot.",
                "A real case beats a classroom course. Measure before you start, or the gain "
                "cannot be shown.",
            ),
        ),
    ),
)
CUSTOMER_CASES = Shelf(
    fr=(
        Page(
            "Télérelève chez {customer} : retour d'expérience sur le {product}",
            tags=("retour-d-expérience", "télérelève"),
            sections=(
                "{customer} exploite une centaine de sites dans toute la France, relevés "
                "jusqu'ici à la main une fois par mois.",
                "Les relevés manuels coûtaient cher, arrivaient tard et comportaient des "
                "erreurs de saisie ; une fuite pouvait passer inaperçue plusieurs semaines.",
                "Le {product} a été installé sur chaque site en {n} semaines, avec la mise à "
                "jour du firmware à distance et des alertes par e-mail en cas d'anomalie. Notre "
                "support a formé les techniciens du client sur place.",
                "Les relevés arrivent chaque jour, sans saisie. Trois fuites ont été détectées "
                "dès le premier trimestre, en quelques heures au lieu de plusieurs semaines.",
                "Vérifier la couverture réseau site par site avant l'installation, et associer "
                "les techniciens du client dès le début.",
            ),
        ),
    ),
    en=(
        Page(
            "Remote monitoring at {customer}: the {product} in the field",
            tags=("lessons-learned", "remote-monitoring"),
            sections=(
                "{customer} runs about a hundred sites, until now read by hand once a month.",
                "Manual readings were costly, late and error-prone; a leak could go unnoticed "
                "for weeks.",
                "The {product} was installed on every site in {n} weeks, with remote firmware "
                "updates and e-mail alerts on anomalies. Our support team trained the "
                "customer's technicians on site.",
                "Readings now arrive daily, with no typing. Three leaks were found in the first "
                "quarter, within hours instead of weeks.",
                "Check network coverage site by site before installing, and involve the "
                "customer's technicians from day one.",
            ),
        ),
    ),
    experts=CUSTOMER.experts,
)
COMPANY_CASES = Shelf(
    fr=(
        Page(
            "Onboarding digital : le bilan après un an",
            tags=("onboarding", "retour-d-expérience"),
            sections=(
                "Jusqu'à l'an dernier, chaque manager organisait l'arrivée de ses recrues à sa "
                "façon. Avec près de deux cents arrivées par an, l'accueil variait beaucoup "
                "d'un site à l'autre.",
                "Un nouvel arrivant sur cinq n'avait pas son poste de travail le premier jour, "
                "et les rapports d'étonnement revenaient toujours sur les mêmes oublis.",
                "Un parcours commun : checklist envoyée au manager quinze jours avant, matinée "
                "d'accueil des RH, parrain ou marraine dans l'équipe, point à un mois.",
                "Plus de 95 % des postes prêts le premier jour, et une satisfaction des "
                "nouveaux arrivants passée de 6,8 à 8,4 sur 10.",
                "Une checklist simple envoyée au bon moment fait plus qu'un long guide ; le "
                "parrainage est l'étape la plus appréciée.",
            ),
        ),
        Page(
            "Dématérialisation des notes de frais : retour d'expérience",
            tags=("notes-de-frais", "dématérialisation"),
            sections=(
                "Chaque mois, plusieurs milliers de tickets papier partaient par courrier "
                "interne vers la comptabilité de {site}.",
                "Un remboursement prenait près d'un mois, des tickets se perdaient, et la "
                "saisie occupait deux personnes à plein temps.",
                "L'application de notes de frais photographie le ticket, qui vaut original ; le "
                "manager valide sur son téléphone et les écritures partent seules dans SAP.",
                "Remboursement sous dix jours ouvrés, plus aucun envoi papier, et les deux "
                "personnes de la saisie se consacrent maintenant au contrôle.",
                "Former les managers à la validation mobile dès le lancement, et garder un "
                "contact humain pour les cas particuliers.",
            ),
        ),
    ),
    en=(
        Page(
            "Digital onboarding: one year on",
            tags=("onboarding", "lessons-learned"),
            sections=(
                "Until last year, each manager organised their newcomers' arrival in their own "
                "way, and welcomes varied a lot from one site to the next.",
                "One newcomer in five had no laptop on their first day, and the fresh-eyes "
                "reports kept pointing at the same gaps.",
                "One programme for all: a checklist sent to the manager two weeks ahead, an HR "
                "welcome morning, a buddy in the team, a check-in after a month.",
                "Over 95 % of laptops ready on day one, and newcomer satisfaction up from 6.8 "
                "to 8.4 out of 10.",
                "A simple checklist sent at the right time does more than a long guide; the "
                "buddy is what newcomers value most.",
            ),
        ),
    ),
    experts=HR.experts,
)
# A trade's own guides, by department, besides TRADE_GUIDES.
TRADE_OWN_GUIDES = {
    "Finance": EXPENSE_GUIDES,
    "Ressources humaines": HR_GUIDES,
    "Systèmes d'information": IT_GUIDES,
}
# Company-wide subjects, with their weights (as the questions').
COMPANY_GUIDES = (
    (IT_GUIDES, 3.0),
    (HR_GUIDES, 3.0),
    (EXPENSE_GUIDES, 2.0),
    (WORKPLACE_GUIDES, 2.0),
)
COMPANY_CASES_BY_SUBJECT = ((COMPANY_CASES, 2.0), (PROJECT_CASES, 1.0))


# --- Places, people and their rights ---------------------------------------------------------


@dataclass
class _Place:
    """Where questions are asked and articles written: a community, or the whole company
    (no community); whom to draw there (access.py confirms each) and what is asked and
    written."""

    community: Community | None
    banks: Sequence[tuple[Bank, float]]
    askers: list[int]
    answerers: Sequence[int]
    readers: Sequence[int]
    members: list[int] = field(default_factory=list)  # answer and vote first
    customers: list[int] = field(default_factory=list)  # external customers among askers
    language: str = ""  # "": the asker's
    skills: tuple[str, ...] = ()
    skills_en: tuple[str, ...] = ()  # in English questions, when they differ
    projects: tuple[str, ...] = ()
    tag: str = ""  # added to each question's tags (a practice's subject)
    weight: float = 1.0
    guides: Sequence[tuple[Shelf, float]] = ()  # articles
    cases: Sequence[tuple[Shelf, float]] = ()  # case studies: none where they do not fit

    @property
    def key(self) -> int:
        return self.community.pk if self.community is not None else 0


class _Rights:
    """access.py's answer for each person, place and action, asked once. The people's
    roles in the communities come from the memberships read once (by _places) and are
    handed to access.py's decisions, which take a known role: access.can would read the
    role again for each of the thousands of people and places drawn, a query each (more
    than a second for the default demo). tests/test_knowledge_demo.py checks the rows
    written with access.can itself."""

    def __init__(self) -> None:
        # Everyone, read at once, with what access.py reads of a person to decide these
        # actions (any other field would be read when asked for): a query per person
        # drawn took a quarter of the time.
        self.users: dict[int, User] = (
            User.objects.filter(is_active=True)
            .only("id", "is_active", "kind", "is_admin")
            .in_bulk()
        )
        self.roles: dict[tuple[int, int], str] = {}  # (user, community) → role
        self.known: dict[tuple[int, int, str], bool] = {}
        self.probes: dict[int, Question] = {}

    def allows(self, user_id: int, place: _Place, action: str) -> bool:
        """``action``: "ask", "answer" (commenting on answers goes with it) or VIEW (the
        readers, who vote)."""
        key = (user_id, place.key, action)
        if key not in self.known:
            self.known[key] = self.decide(self.users[user_id], place, action)
        return self.known[key]

    def decide(self, user: User, place: _Place, action: str) -> bool:
        community = place.community
        role = self.roles.get((user.pk, place.key))
        if action == "ask":
            return access.may_ask(user, community, role)
        return action in access.question_permissions(user, self.probe(place), role)

    def probe(self, place: _Place) -> Question:
        """An open question there: who may read or answer it depends on where it was
        asked, not on who asked it (access.QuestionRule)."""
        if place.key not in self.probes:
            self.probes[place.key] = Question(community=place.community)
        return self.probes[place.key]


def _experts(keys: Iterable[str]) -> dict[str, list[int]]:
    """The people whose profile names each topic (by its key), in one query."""
    found: dict[str, list[int]] = {}
    rows = ProfileTopic.objects.filter(
        topic__key__in=sorted(set(keys)), kind__in=AREAS, user__is_active=True
    ).values_list("topic__key", "user_id")
    for key, user in rows.order_by("user_id"):
        found.setdefault(key, []).append(user)
    return found


def _places(
    employees: list[int], customers: set[int], active: set[int], rights: _Rights
) -> list[_Place]:
    """The communities where people ask (not archived, with writers), by their kind; the
    members' roles go to ``rights``."""
    from essaim.demo import KNOWLEDGE  # imported here: essaim.demo imports this module

    members: dict[int, list[tuple[int, str]]] = {}
    for community_id, user_id, role in Membership.objects.order_by("pk").values_list(
        "community_id", "user_id", "role"
    ):
        if user_id in active:
            members.setdefault(community_id, []).append((user_id, role))
            rights.roles[user_id, community_id] = role
    places = []
    kinds = (Kind.HELP, Kind.PRACTICE, Kind.TRADE, Kind.PROJECT, Kind.CUSTOMER)
    communities = Community.objects.filter(archived_at__isnull=True, kind__in=kinds)
    for community in communities.order_by("pk"):
        everyone = members.get(community.pk, [])
        writers = sorted(u for u, role in everyone if role in WRITERS)
        members_of = sorted(u for u, _role in everyone)
        if not writers:
            continue
        open_to_all = community.visibility in (Visibility.PUBLIC, Visibility.EXTERNAL)
        place = _Place(
            community=community,
            banks=(),
            askers=[u for u in writers if u not in customers],
            customers=[u for u in writers if u in customers],
            # Every employee answers and reads in a public or external community.
            answerers=sorted(set(employees) | set(writers)) if open_to_all else writers,
            readers=sorted(set(employees) | set(members_of)) if open_to_all else members_of,
            members=members_of,
            language="en" if community.name in ENGLISH_COMMUNITIES else "",
            weight=math.sqrt(len(writers)) * KIND_WEIGHTS.get(Kind(community.kind), 1.0),
        )
        tags = [str(t) for t in community.tags or ()]
        if community.kind == Kind.HELP:
            place.banks = ((ESSAIM, 1.0),)
            place.guides = ((ESSAIM_GUIDES, 1.0),)
        elif community.kind == Kind.PRACTICE:
            first = tags[0] if tags else ""
            own = PRACTICES.get(first)
            place.banks = ((PRACTICE, 1.0), (own, 2.0)) if own else ((PRACTICE, 1.0),)
            guides = PRACTICE_OWN_GUIDES.get(first)
            place.guides = (
                ((PRACTICE_GUIDES, 1.0), (guides, 1.0)) if guides else ((PRACTICE_GUIDES, 1.0),)
            )
            place.cases = ((PRACTICE_CASES, 1.0),)
            place.skills = PRACTICE_TOPICS.get(first, ((community.name,), (), ()))[0]
            place.skills_en = PRACTICE_SUBJECTS_EN.get(first, ())
            place.tag = first
        elif community.kind == Kind.TRADE:
            know = KNOWLEDGE.get(community.name)
            if know is not None:
                place.skills, place.projects = know.skills, know.projects
            own = TRADES.get(community.name)
            place.banks = ((TRADE, 1.0), (own, 2.0)) if own else ((TRADE, 1.0),)
            guides = TRADE_OWN_GUIDES.get(community.name)
            place.guides = (
                ((TRADE_GUIDES, 1.0), (guides, 1.0)) if guides else ((TRADE_GUIDES, 1.0),)
            )
            place.cases = ((PROJECT_CASES, 1.0),)
        elif community.kind == Kind.PROJECT:
            short = community.name.split(" \N{EN DASH} ")[0].replace("Projet ", "")
            place.projects = (short,)
            place.banks = ((PROJECT, 1.0),)
            place.guides, place.cases = ((PROJECT_GUIDES, 1.0),), ((PROJECT_CASES, 1.0),)
        else:
            place.banks = ((CUSTOMER, 1.0),)
            place.guides, place.cases = ((CUSTOMER_GUIDES, 1.0),), ((CUSTOMER_CASES, 1.0),)
        if place.askers or place.customers:
            places.append(place)
    return places


# --- Planning --------------------------------------------------------------------------------


@dataclass
class _AnswerPlan:
    author: int
    body: str
    at: datetime
    own: bool  # one of the question's own answers, not a general one
    votes: list[tuple[int, int, datetime]] = field(default_factory=list)  # user, ±1, when
    comments: list[tuple[int, str, datetime]] = field(default_factory=list)  # author, text

    @property
    def score(self) -> int:
        return sum(value for _user, value, _at in self.votes)


@dataclass
class _QuestionPlan:
    author: int
    place: _Place
    ask: Ask
    language: str
    title: str
    body: str
    tags: list[str]
    named: set[str]  # the directory topic keys its tags (and skill) name
    topics: set[str]  # those and its subject's: the people who know them answer first
    at: datetime
    answer_texts: list[str]  # its own answers, filled with the same slots as the question
    answers: list[_AnswerPlan] = field(default_factory=list)
    accepted: _AnswerPlan | None = None
    accepted_at: datetime | None = None
    duplicate_of: _QuestionPlan | None = None
    pk: int = 0  # once written

    @property
    def state(self) -> str:
        if self.duplicate_of is not None:
            return QuestionState.DUPLICATE
        if self.accepted is not None:
            return QuestionState.ACCEPTED
        return QuestionState.ANSWERED if self.answers else QuestionState.OPEN

    @property
    def activity_at(self) -> datetime:
        """Asked, last answered or accepted (knowledge.services)."""
        moments = [self.at, *(a.at for a in self.answers)]
        return max([*moments, self.accepted_at] if self.accepted_at else moments)


class _Slots(dict[str, str]):
    """The values of a question's slots, drawn when its texts ask for them."""

    def __init__(self, draw: Callable[[str], str]) -> None:
        super().__init__()
        self.draw = draw

    def __missing__(self, key: str) -> str:
        value = self[key] = self.draw(key)
        return value


class _Maker:
    """Draws everything: places, people, texts, dates."""

    def __init__(self, seed: int, now: datetime, languages: dict[int, str]) -> None:
        self.rng = random.Random(f"{seed}-questions")  # noqa: S311  (demo data, not secrets)
        # Dates have their own stream, as in content.demo: a date takes more or fewer draws
        # by the weekday of today, and the texts and people must not depend on it.
        self.dates = random.Random(f"{seed}-questions-dates")  # noqa: S311
        self.now = now
        self.languages = languages  # user → "fr" or "en"
        self.fakers = {"fr": Faker("fr_FR"), "en": Faker("en_GB")}
        for i, faker in enumerate(self.fakers.values()):
            faker.seed_instance(seed + 10 + i)
        self.rights = _Rights()
        self.experts: dict[str, list[int]] = {}  # topic key → who knows it
        self.sites: list[str] = []

    # - people
    def pick(self, pools: Sequence[Sequence[int]], allowed: Callable[[int], bool]) -> int | None:
        """Someone from the first non-empty pool (or the next ones) whom ``allowed`` lets
        in, or None after a few tries."""
        pools = [p for p in pools if p]
        for attempt in range(24):
            if not pools:
                break
            pool = pools[min(attempt // 8, len(pools) - 1)]
            found = pool[self.rng.randrange(len(pool))]
            if allowed(found):
                return found
        return None

    def draw(
        self, count: int, first: Sequence[int], then: Sequence[int], allowed: Callable[[int], bool]
    ) -> list[int]:
        """Up to ``count`` distinct people, about three in four from ``first``, the others
        from ``then``, each let in by ``allowed``."""
        chosen: dict[int, None] = {}
        tries = 0
        while len(chosen) < count and tries < 4 * count + 10:
            tries += 1
            pool = first if first and (not then or self.rng.random() < 0.75) else then
            if not pool:
                break
            found = pool[self.rng.randrange(len(pool))]
            if found not in chosen and allowed(found):
                chosen[found] = None
        return list(chosen)

    # - dates
    def asked_at(self) -> datetime:
        """A working hour of the last DAYS days, weekends rarely, more of them lately."""
        rng = self.dates
        for _ in range(10):
            day = (self.now - timedelta(days=DAYS * rng.random() ** 1.2)).date()
            if day.weekday() < 5 or rng.random() < 0.1:
                break
        minutes = int(rng.triangular(8 * 60, 19 * 60, 10 * 60))
        at = timezone.make_aware(datetime(day.year, day.month, day.day)) + timedelta(
            minutes=minutes, seconds=rng.randrange(60)
        )
        return min(at, self.now - timedelta(minutes=rng.randint(30, 240)))

    def after(self, start: datetime, within: timedelta) -> datetime:
        """A moment after ``start`` (soon, more often than not), before now: at most half
        way to now when that is under a second away, so that a long chain of answers
        never reaches now and what follows them is never dated with them."""
        span = max(0.0, min(self.now - start, within).total_seconds())
        return start + timedelta(seconds=max(min(1.0, span / 2), span * self.dates.random() ** 2))

    # - texts
    def slot(self, key: str, place: _Place, language: str) -> str:
        rng = self.rng
        if key == "skill":
            skills = place.skills_en if language == "en" and place.skills_en else place.skills
            return rng.choice(skills or ("Gestion de projet",))
        if key == "project":
            return rng.choice(place.projects or ("Déploiement Essaim",))
        if key == "product":
            return rng.choice(PRODUCTS if language == "fr" else PRODUCTS_EN)
        if key == "site":
            return rng.choice(self.sites or ["Paris"])
        if key == "first":
            return str(self.fakers[language].first_name())
        if key == "customer":
            return str(self.fakers[language].company())
        if key == "n":
            return str(rng.randint(2, 6))
        raise KeyError(key)

    def language_of(self, author: int, place: _Place) -> str:
        """As the posts: a community's own language most of the time, else the author's."""
        if place.language and self.rng.random() < 0.8:
            return place.language
        return "en" if self.languages.get(author) == "en" else "fr"


def _tag(name: str) -> str:
    """A skill as a tag: "Appels d'offres" → "appels-d-offres" (one word, lower case)."""
    return "-".join(name.lower().replace("'", " ").split())


def _valid_tags(names: Iterable[str]) -> list[str]:
    """The names that knowledge.services accepts as tags, at most TAGS_PER_QUESTION."""
    kept: list[str] = []
    for name in names:
        try:
            kept += clean_tags([name])
        except ServiceError:
            continue
    return list(dict.fromkeys(kept))[:TAGS_PER_QUESTION]


def _plan_question(maker: _Maker, place: _Place, author: int) -> _QuestionPlan:
    rng = maker.rng
    language = maker.language_of(author, place)
    banks = [bank for bank, _ in place.banks]
    bank = rng.choices(banks, [weight for _, weight in place.banks])[0]
    language, asks = bank.asks(language)
    ask = rng.choice(asks)
    slots = _Slots(lambda key: maker.slot(key, place, language))
    fill = string.Formatter()

    def text(template: str) -> str:
        return fill.vformat(template, (), slots)

    title = text(ask.title)
    title = title[0].upper() + title[1:]
    tags = [_tag(text(t)) if "{" in t else t for t in ask.tags]
    tags = _valid_tags([place.tag, *tags] if place.tag else tags)
    named = {tag_key(t) for t in tags}
    if "skill" in slots:
        named.add(normalize(slots["skill"]))
    body = text(ask.body)
    if not body and rng.random() < CONTEXT_SHARE:
        body = rng.choice(CONTEXTS[language])
    return _QuestionPlan(
        author=author,
        place=place,
        ask=ask,
        language=language,
        title=title,
        body=body,
        tags=tags,
        named=named,
        topics=named | {normalize(name) for name in bank.experts},
        at=maker.asked_at(),
        answer_texts=[text(a) for a in ask.answers],
    )


def _plan_questions(
    maker: _Maker, count: int, company: _Place, places: list[_Place]
) -> list[_QuestionPlan]:
    rng = maker.rng
    rights = maker.rights
    plans = []
    weights = [p.weight for p in places]
    for _ in range(count):
        place = company
        if places and rng.random() < IN_COMMUNITIES:
            place = rng.choices(places, weights)[0]

        def may_ask(user: int, place: _Place = place) -> bool:
            return rights.allows(user, place, "ask")

        pools = [place.askers]
        if place.customers and (not place.askers or rng.random() < CUSTOMERS_ASK):
            pools = [place.customers, place.askers]
        author = maker.pick(pools, may_ask)
        if author is None:  # nobody may ask there after all: company-wide instead
            place = company
            author = maker.pick([company.askers], lambda u: rights.allows(u, company, "ask"))
            if author is None:
                continue
        plans.append(_plan_question(maker, place, author))
    plans.sort(key=lambda p: p.at)
    return plans


def _close_duplicates(maker: _Maker, plans: list[_QuestionPlan]) -> None:
    """About DUPLICATES of the questions (in time order) are closed as duplicates of the
    same question asked earlier in the same place, so read by the same people; fewer when
    there are not enough such pairs. An original is never itself a duplicate
    (knowledge.services refuses to link to one)."""
    rng = maker.rng
    wanted = round(len(plans) * DUPLICATES)
    asked: dict[tuple[int, str], list[int]] = {}  # (place, title) → questions, oldest first
    pairs: list[tuple[int, int]] = []
    for i, plan in enumerate(plans):
        earlier = asked.setdefault((plan.place.key, plan.title), [])
        pairs += [(i, j) for j in earlier if plans[j].at < plan.at]
        earlier.append(i)
    rng.shuffle(pairs)
    closed: set[int] = set()
    originals: set[int] = set()
    for i, j in pairs:
        if len(closed) >= wanted:
            break
        if i in closed or i in originals or j in closed:
            continue
        plans[i].duplicate_of = plans[j]
        closed.add(i)
        originals.add(j)


def _answer(maker: _Maker, plan: _QuestionPlan) -> None:
    """Answers by people who know the subject where possible, votes from readers, the
    asker's acceptance, a few comments under the answers."""
    rng = maker.rng
    rights = maker.rights
    place = plan.place
    wanted = rng.choices(list(ANSWER_COUNTS), list(ANSWER_COUNTS.values()))[0]
    if plan.duplicate_of is not None or not wanted:
        return  # closed before anyone answered, or nobody did

    def may_answer(user: int) -> bool:
        return user != plan.author and rights.allows(user, place, "answer")

    def may_read(user: int) -> bool:
        return rights.allows(user, place, access.VIEW)

    def who_knows(keys: set[str]) -> list[int]:
        return sorted({user for key in keys for user in maker.experts.get(key, ())})

    named = who_knows(plan.named)
    if named:
        # Tags that name a topic people declare bring the question to them (suggested
        # experts, the "for me" queue), and accepted or well-voted answers to it count as
        # expertise in "who knows X" (selectors.answer_evidence): only they answer it, or
        # a salesperson's accepted answer would make them a Kubernetes expert.
        authors = maker.draw(wanted, named, (), may_answer)
    else:
        others = place.members or place.answerers
        authors = maker.draw(wanted, who_knows(plan.topics), others, may_answer)
        if len(authors) < wanted:  # few know: anyone who may answer there
            more = maker.draw(wanted - len(authors), place.answerers, (), may_answer)
            authors += [u for u in more if u not in authors]
    own = list(plan.answer_texts)
    general = list(GENERAL_ANSWERS[plan.language])
    rng.shuffle(general)
    at = plan.at
    for author in authors:
        mine = bool(own) and rng.random() < 0.85
        body = own.pop(0) if mine else general.pop() if general else ""
        if not body:
            break
        at = maker.after(at, timedelta(days=2))
        plan.answers.append(_AnswerPlan(author, body, at, own=mine))
    for answer in plan.answers:
        # A question's own answers draw more readers, and more agree with them.
        count = int(rng.lognormvariate(0.6, 0.9) * (1.5 if answer.own else 1.0))
        up = 0.92 if answer.own else 0.7

        def may_vote(user: int, answer: _AnswerPlan = answer) -> bool:
            # AnswerRule: readers vote, but not on their own answer.
            return user != answer.author and may_read(user)

        for user in maker.draw(count, place.members, place.readers, may_vote):
            value = 1 if rng.random() < up else -1
            answer.votes.append((user, value, maker.after(answer.at, timedelta(days=5))))
    if plan.answers and rng.random() < ACCEPTED:
        best = max(plan.answers, key=lambda a: (a.own, a.score, -a.at.timestamp()))
        plan.accepted = best
        plan.accepted_at = maker.after(best.at, timedelta(days=3))
    for answer in plan.answers:
        if rng.random() > 0.2:
            continue
        # The asker thanks or asks for a precision (commenting goes with the right to
        # answer: AnswerRule); someone else adds a remark.
        if rng.random() < 0.7 and rights.allows(plan.author, place, "answer"):
            text = rng.choice(THANKS[plan.language])
            answer.comments.append((plan.author, text, maker.after(answer.at, timedelta(1))))
        else:
            other = maker.pick([place.members, place.answerers], may_answer)
            if other is not None and other != answer.author:
                text = rng.choice(REMARKS[plan.language])
                answer.comments.append((other, text, maker.after(answer.at, timedelta(2))))


# --- Articles and case studies ---------------------------------------------------------------


@dataclass
class _ArticlePlan:
    kind: str
    place: _Place
    language: str
    title: str
    body: str
    tags: list[str]
    authors: list[int]  # the one who created it first
    at: datetime  # created
    # Texts it may have had before its own, oldest first: its first blocks, or its first
    # sections filled (the revisions are drawn from them).
    earlier: list[str] = field(default_factory=list)
    experts: list[int] = field(default_factory=list)  # who knows its subject: co-authors first
    holders: list[int] = field(default_factory=list)  # who declare a topic its tags name
    harvested_from: _QuestionPlan | None = None
    revisions: list[tuple[int, str, datetime]] = field(default_factory=list)  # editor, text
    added: list[datetime] = field(default_factory=list)  # when each author was added
    published_at: datetime | None = None
    review_on: date | None = None
    feedback: list[tuple[int, bool, datetime]] = field(default_factory=list)  # reader, useful


def _headings(language: str) -> list[str]:
    """The case study sections' headings in ``language``, as services.case_study_template
    writes them for someone who reads Essaim in that language."""
    with translation.override(language):
        return [str(section) for section in CASE_STUDY_SECTIONS]


def _case_study(headings: Sequence[str], texts: Sequence[str]) -> str:
    """A case study with its first sections filled with ``texts``, the others empty (none
    filled: services.case_study_template)."""
    filled = list(texts) + [""] * (len(headings) - len(texts))
    return "\n\n".join(
        f"## {h}\n\n{text}" if text else f"## {h}\n"
        for h, text in zip(headings, filled, strict=True)
    )


def _who_knows(maker: _Maker, keys: Iterable[str]) -> list[int]:
    """The people whose profile names any of these topics (by key), read once per key."""
    keys = set(keys)
    missing = sorted(keys - maker.experts.keys())
    if missing:
        found = _experts(missing)
        maker.experts.update({key: found.get(key, []) for key in missing})
    return sorted({user for key in keys for user in maker.experts[key]})


def _draw_article(
    maker: _Maker, kind: str, company: _Place, places: list[_Place]
) -> _ArticlePlan | None:
    """An article or a case study in a place that has some, on one of its subjects, by
    someone who may write there and who knows the subject when someone does; None when
    nobody fits."""
    rng = maker.rng
    case = kind == ArticleKind.CASE_STUDY
    place = company
    if places and rng.random() < IN_COMMUNITIES:
        place = rng.choices(places, [p.weight for p in places])[0]
    shelves = place.cases if case else place.guides
    shelf = rng.choices([s for s, _ in shelves], [weight for _, weight in shelves])[0]
    experts = _who_knows(maker, (normalize(name) for name in shelf.experts))

    def may_write(user: int) -> bool:
        return maker.rights.allows(user, place, "ask")

    author = maker.pick([experts, place.askers, place.customers], may_write)
    if author is None:
        return None
    language, pages = shelf.pages(maker.language_of(author, place))
    page = rng.choice(pages)
    slots = _Slots(lambda key: maker.slot(key, place, language))
    formatter = string.Formatter()

    def fill(template: str) -> str:
        return formatter.vformat(template, (), slots)

    title = fill(page.title)
    tags = [_tag(fill(t)) if "{" in t else t for t in page.tags]
    tags = _valid_tags([place.tag, *tags] if place.tag else tags)
    # As for the answers: published articles tagged with a topic are evidence in "who
    # knows X" (selectors.article_evidence), so when people declare a topic its tags
    # name, only they write it.
    named = {tag_key(t) for t in tags} | (
        {normalize(slots["skill"])} if "skill" in slots else set()
    )
    holders = _who_knows(maker, named)
    if holders and author not in holders:
        author = maker.pick([holders], may_write)
        if author is None:
            return None
    plan = _ArticlePlan(
        kind=kind,
        place=place,
        language=language,
        title=title[0].upper() + title[1:],
        body="",
        tags=tags,
        authors=[author],
        at=maker.asked_at(),
        experts=experts,
        holders=holders,
    )
    if case:
        headings = _headings(language)
        texts = [fill(text) for text in page.sections]
        plan.body = _case_study(headings, texts)
        plan.earlier = [_case_study(headings, texts[:n]) for n in range(len(texts))]
    else:
        plan.body = fill(page.body)
        blocks = plan.body.split("\n\n")
        # Cut where a block ends a thought: not right after a heading.
        plan.earlier = [
            "\n\n".join(blocks[:n])
            for n in range(1, len(blocks))
            if not blocks[n - 1].startswith("#")
        ]
    return plan


def _harvest(maker: _Maker, count: int, questions: list[_QuestionPlan]) -> list[_ArticlePlan]:
    """Up to ``count`` accepted questions turned into articles by their askers, as
    services.harvest does: the question's text, an "Answer" heading (in the question's
    language) and the accepted answer; its author a co-author when they may write there."""
    rng = maker.rng
    _who_knows(maker, {key for question in questions for key in question.named})  # one query
    # With an answer written for the question, not a general one; and by an asker who
    # knows the topics its tags name, when people declare them (as _draw_article).
    accepted = [
        q
        for q in questions
        if q.accepted is not None
        and q.accepted.own
        and q.author in (_who_knows(maker, q.named) or [q.author])
    ]
    plans = []
    for question in rng.sample(accepted, min(count, len(accepted))):
        assert question.accepted is not None and question.accepted_at is not None
        with translation.override(question.language):
            heading = pgettext("noun", "Answer")
        parts = (question.body, f"## {heading}", question.accepted.body)
        authors = [question.author]
        writer = question.accepted.author
        if writer != question.author and maker.rights.allows(writer, question.place, "ask"):
            authors.append(writer)
        plans.append(
            _ArticlePlan(
                kind=ArticleKind.ARTICLE,
                place=question.place,
                language=question.language,
                title=question.title,
                body="\n\n".join(p for p in parts if p),
                tags=list(question.tags),
                authors=authors,
                holders=_who_knows(maker, question.named),
                at=maker.after(question.accepted_at, timedelta(days=20)),
                harvested_from=question,
            )
        )
    return plans


def _co_authors(maker: _Maker, plan: _ArticlePlan) -> None:
    """One or two more authors who may write there: who know the subject where possible,
    only who know the topics its tags name when people declare them."""
    place = plan.place

    def may_write(user: int) -> bool:
        return user not in plan.authors and maker.rights.allows(user, place, "ask")

    wanted = maker.rng.choice((1, 2))
    if plan.holders:
        plan.authors += maker.draw(wanted, plan.holders, (), may_write)
    else:
        others = place.members or place.askers
        plan.authors += maker.draw(wanted, plan.experts, others, may_write)


def _revise(maker: _Maker, plan: _ArticlePlan) -> None:
    """One to five revisions: earlier texts, then its own; the first by its creator, the
    others by any of its authors, who were all added before the second."""
    rng = maker.rng
    wanted = rng.choices(list(REVISIONS), list(REVISIONS.values()))[0]
    picked = sorted(rng.sample(range(len(plan.earlier)), min(wanted - 1, len(plan.earlier))))
    at = plan.at
    for number, text in enumerate([*(plan.earlier[i] for i in picked), plan.body]):
        if number:
            at = maker.after(at, timedelta(days=6))
        editor = rng.choice(plan.authors) if number else plan.authors[0]
        plan.revisions.append((editor, text, at))
    # Co-authors are added by then (a harvested answer's author at once, by services.harvest).
    second = plan.revisions[1][2] if len(plan.revisions) > 1 else plan.at + timedelta(days=2)
    plan.added = [plan.at]
    for _ in plan.authors[1:]:
        harvested = plan.harvested_from is not None
        plan.added.append(plan.at if harvested else maker.after(plan.at, second - plan.at))


def _publish(maker: _Maker, plan: _ArticlePlan) -> None:
    """Published after one of its revisions (the later ones are edits of a published
    article); then readers who did not write it say whether it was useful."""
    rng = maker.rng
    times = [at for _editor, _text, at in plan.revisions]
    after = rng.randrange(len(times))
    gap = times[after + 1] - times[after] if after + 1 < len(times) else timedelta(days=2)
    published = plan.published_at = maker.after(times[after], gap)
    place = plan.place

    def may_tell(user: int) -> bool:
        return user not in plan.authors and maker.rights.allows(user, place, access.VIEW)

    count = int(rng.lognormvariate(1.2, 0.8))
    for user in maker.draw(count, place.members, place.readers, may_tell):
        useful = rng.random() < USEFUL
        plan.feedback.append((user, useful, maker.after(published, timedelta(days=20))))


def _plan_articles(
    maker: _Maker,
    articles: int,
    cases: int,
    company: _Place,
    places: list[_Place],
    questions: list[_QuestionPlan],
) -> list[_ArticlePlan]:
    """``articles`` articles (a few harvested from ``questions``) and ``cases`` case
    studies, fewer when nobody may write them where they were drawn; with their authors,
    revisions, publication, review date and feedback."""
    rng = maker.rng
    shelves = [shelf for p in [company, *places] for shelf, _ in (*p.guides, *p.cases)]
    _who_knows(maker, (normalize(name) for shelf in shelves for name in shelf.experts))
    plans = _harvest(maker, round(articles * HARVESTED), questions)
    taken = {(plan.place.key, plan.title) for plan in plans}
    for kind, count in (
        (ArticleKind.ARTICLE, articles - len(plans)),
        (ArticleKind.CASE_STUDY, cases),
    ):
        where = [p for p in places if (p.cases if kind == ArticleKind.CASE_STUDY else p.guides)]
        for _ in range(count):
            for _attempt in range(6):  # the same title twice in a place: another draw
                plan = _draw_article(maker, kind, company, where)
                if plan is not None and (plan.place.key, plan.title) not in taken:
                    taken.add((plan.place.key, plan.title))
                    plans.append(plan)
                    break
    # Exact shares rather than a draw each: on a few dozen articles, a draw each could
    # leave no draft at all.
    indexes = range(len(plans))
    drafts = set(rng.sample(indexes, round(len(plans) * DRAFTS)))
    reviewed = set(rng.sample(indexes, round(len(plans) * REVIEWED)))
    written = [i for i in indexes if plans[i].harvested_from is None]
    together = set(rng.sample(written, min(len(written), round(len(plans) * CO_WRITTEN))))
    today = timezone.localdate(maker.now)
    for i, plan in enumerate(plans):
        if i in together:
            _co_authors(maker, plan)
        _revise(maker, plan)
        if i not in drafts:
            _publish(maker, plan)
        if i in reviewed:
            plan.review_on = today + timedelta(days=maker.dates.randint(14, 180))
    plans.sort(key=lambda p: p.at)
    return plans


# --- Writing ---------------------------------------------------------------------------------


def build_questions(*, seed: int, scale: float = 1.0) -> QuestionsSummary:
    """Create the demo's questions, answers, votes and comments, then its articles and
    case studies, for the people and communities already built: QUESTIONS, ARTICLES and
    CASE_STUDIES times ``scale``, nothing at scale 0."""
    count = round(QUESTIONS * scale)
    if count <= 0:
        return QuestionsSummary()
    people = list(
        User.objects.filter(is_active=True).order_by("pk").values_list("pk", "language", "kind")
    )
    employees = [pk for pk, _language, kind in people if kind == UserKind.EMPLOYEE]
    if not employees:
        return QuestionsSummary()
    customers = {pk for pk, _language, kind in people if kind == UserKind.EXTERNAL}
    maker = _Maker(seed, timezone.now(), {pk: language for pk, language, _kind in people})
    from essaim.demo import KNOWLEDGE  # imported here: essaim.demo imports this module

    maker.sites = sorted({city or name for name, city in Site.objects.values_list("name", "city")})
    skills = sorted({s for know in KNOWLEDGE.values() for s in know.skills})
    projects = sorted({p for know in KNOWLEDGE.values() for p in know.projects})
    company = _Place(
        community=None,
        banks=COMPANY_BANKS,
        askers=employees,
        answerers=employees,
        readers=employees,
        skills=tuple(skills),
        projects=tuple(projects),
        guides=COMPANY_GUIDES,
        cases=COMPANY_CASES_BY_SUBJECT,
    )
    active = {pk for pk, _language, _kind in people}
    places = _places(employees, customers, active, maker.rights)
    plans = _plan_questions(maker, count, company, places)
    _close_duplicates(maker, plans)
    maker.experts = _experts(key for plan in plans for key in plan.topics)
    for plan in plans:
        _answer(maker, plan)
    summary = _write(plans)
    articles = _plan_articles(
        maker, round(ARTICLES * scale), round(CASE_STUDIES * scale), company, places, plans
    )
    return _write_articles(articles, summary)


def _write(plans: list[_QuestionPlan]) -> QuestionsSummary:
    when = connection.ops.adapt_datetimefield_value
    rendered: dict[str, str] = {}

    def render(text: str) -> str:
        if text and text not in rendered:
            rendered[text] = render_with_refs(text)[0]
        return rendered.get(text, "")

    # bulk_create reads the ids back, which answers, tags and the links need: a few hundred
    # rows, where essaim.bulk's speed does not matter.
    questions = Question.objects.bulk_create(
        Question(
            author_id=plan.author,
            community=plan.place.community,
            title=plan.title,
            body=plan.body,
            html=render(plan.body),
            tags=plan.tags,
            state=plan.state,  # "accepted" before its answer exists: the check allows it
            answer_count=len(plan.answers),
            created_at=plan.at,
            activity_at=plan.activity_at,
        )
        for plan in plans
    )
    question_of = {id(plan): q.pk for plan, q in zip(plans, questions, strict=True)}
    for plan, question in zip(plans, questions, strict=True):
        plan.pk = question.pk  # for the articles harvested from it
    tags = [
        (question_of[id(plan)], name, tag_key(name), when(plan.at))
        for plan in plans
        for name in plan.tags
    ]
    bulk.insert(QuestionTag, ("question_id", "name", "key", "created_at"), tags)
    made = Answer.objects.bulk_create(
        Answer(
            question_id=question_of[id(plan)],
            author_id=answer.author,
            body=answer.body,
            html=render(answer.body),
            score=answer.score,
            accepted=answer is plan.accepted,
            created_at=answer.at,
        )
        for plan in plans
        for answer in plan.answers
    )
    answer_of = dict(
        zip((id(a) for plan in plans for a in plan.answers), (a.pk for a in made), strict=True)
    )
    links = [
        (
            answer_of[id(plan.accepted)] if plan.accepted else None,
            question_of[id(plan.duplicate_of)] if plan.duplicate_of else None,
            question_of[id(plan)],
        )
        for plan in plans
        if plan.accepted or plan.duplicate_of
    ]
    bulk.update(Question, ("accepted_answer_id", "duplicate_of_id"), "id", links)
    votes = [
        (answer_of[id(answer)], user, value, when(at))
        for plan in plans
        for answer in plan.answers
        for user, value, at in answer.votes
    ]
    bulk.insert(AnswerVote, ("answer_id", "user_id", "value", "created_at"), votes)
    comments = [
        (answer_of[id(answer)], author, text, render(text), when(at))
        for plan in plans
        for answer in plan.answers
        for author, text, at in answer.comments
    ]
    fields = ("answer_id", "author_id", "body", "html", "created_at")
    bulk.insert(AnswerComment, fields, comments)
    return QuestionsSummary(
        questions=len(questions),
        answers=len(made),
        accepted=sum(plan.accepted is not None for plan in plans),
        votes=len(votes),
        comments=len(comments),
        duplicates=sum(plan.duplicate_of is not None for plan in plans),
    )


def _write_articles(plans: list[_ArticlePlan], summary: QuestionsSummary) -> QuestionsSummary:
    when = connection.ops.adapt_datetimefield_value
    made = Article.objects.bulk_create(
        Article(
            community=plan.place.community,
            kind=plan.kind,
            title=plan.title,
            body=plan.body,
            html=render_with_refs(plan.body)[0],
            tags=plan.tags,
            created_by_id=plan.authors[0],
            published_at=plan.published_at,
            review_on=plan.review_on,
            harvested_from_id=plan.harvested_from.pk if plan.harvested_from else None,
            useful_count=sum(useful for _user, useful, _at in plan.feedback),
            not_useful_count=sum(not useful for _user, useful, _at in plan.feedback),
            created_at=plan.at,
            updated_at=plan.revisions[-1][2],
        )
        for plan in plans
    )
    pairs = list(zip((article.pk for article in made), plans, strict=True))
    authors = [
        (pk, user, when(at))
        for pk, plan in pairs
        for user, at in zip(plan.authors, plan.added, strict=True)
    ]
    bulk.insert(ArticleAuthor, ("article_id", "user_id", "added_at"), authors)
    revisions = [
        (pk, number, plan.title, text, editor, when(at))
        for pk, plan in pairs
        for number, (editor, text, at) in enumerate(plan.revisions, start=1)
    ]
    fields = ("article_id", "number", "title", "body", "editor_id", "created_at")
    bulk.insert(ArticleRevision, fields, revisions)
    feedback = [
        (pk, user, useful, when(at)) for pk, plan in pairs for user, useful, at in plan.feedback
    ]
    bulk.insert(ArticleFeedback, ("article_id", "user_id", "useful", "created_at"), feedback)
    return replace(
        summary,
        articles=sum(plan.kind == ArticleKind.ARTICLE for plan in plans),
        case_studies=sum(plan.kind == ArticleKind.CASE_STUDY for plan in plans),
        drafts=sum(plan.published_at is None for plan in plans),
        harvested=sum(plan.harvested_from is not None for plan in plans),
        revisions=len(revisions),
        feedback=len(feedback),
    )
