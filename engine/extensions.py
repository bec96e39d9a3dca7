"""Extensions: how one organisation's own rules plug into the generic engine.

The engine runs any BPMN process. What is particular to one organisation (its
service-task handlers, its tables, its settings, who hears of a late task, its
own REST endpoints and pages) comes from an *extension*: an object with a
``name`` and a ``register(setup)`` method. ``register`` is the one place where
an extension tells the engine what it brings, by calling the methods of the
:class:`Setup` it is given; the engine, the CLI and the web app then read the
finished :class:`Setup` back. Nothing in ``engine/`` imports an extension.

A minimal extension::

    class Shop:
        name = "shop"

        def register(self, setup: Setup) -> None:
            setup.topic("order.ship", ship_order)
            setup.roles("gudang")
            setup.escalate("gudang", "admin")
            setup.migrations(Path(__file__).parent / "migrations")
            setup.pages(shop_pages)          # a Flask blueprint

``tests/example_extension/`` is a complete one: a topic, a table, a page.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any, Protocol, TypeVar

from engine.documents.visibility import INTERNAL, VisibilityTable
from engine.runtime.handlers import Handler, TopicRegistry

from .config import Settings

if TYPE_CHECKING:
    from engine.composition import Services

T = TypeVar("T")


class Extension(Protocol):
    """What the engine asks of an extension: a name and one registration method."""

    name: str

    def register(self, setup: Setup) -> None: ...


@dataclass(frozen=True)
class NavLink:
    """A link an extension adds to the pages' top bar.

    ``label`` is a message key of the pages' catalogue; ``endpoint`` a Flask
    endpoint; ``signed_in`` whether only signed-in users see it.
    """

    label: str
    endpoint: str
    signed_in: bool = True
    #: A message key shown with a public link on the sign-in page.
    hint: str | None = None
    #: Only users with one of these roles (or admins) see it; empty: everyone signed in.
    roles: tuple[str, ...] = ()


@dataclass(frozen=True)
class CustomerSection:
    """A section an extension adds to a customer's own page (``/applications``).

    ``template`` is a Jinja template of the extension's page blueprint; ``build``
    returns its context from the request's services and the signed-in actor.
    """

    template: str
    build: Callable[[Any, Any], Mapping[str, Any]]


@dataclass(frozen=True)
class Entry:
    """What a checker of entered values (:meth:`Setup.check`) is given."""

    #: The form's id (a task's form, or the message's name for a message's form).
    form_id: str
    #: The submitted values, already checked against the form's fields and types.
    values: Mapping[str, Any]
    #: The variables of the instance the values are for (empty when none yet).
    variables: Mapping[str, Any]
    #: The transaction's services, for queries of the organisation's own records.
    services: Services
    instance_id: str | None = None


# A checker returns field key -> message words, one per refused field (empty: all fine).
EntryChecker = Callable[[Entry], Mapping[str, str] | None]


@dataclass
class Setup:
    """What the loaded extensions registered, gathered for the engine and the web app."""

    #: The engine's settings, for an extension that needs them (its time zone, say).
    settings: Settings
    topic_registry: TopicRegistry
    known_roles: list[str] = field(default_factory=list)
    escalation: dict[str, str] = field(default_factory=dict)
    outside_roles: set[str] = field(default_factory=set)
    migration_folders: list[Path] = field(default_factory=list)
    rest_blueprints: list[Any] = field(default_factory=list)
    page_blueprints: list[Any] = field(default_factory=list)
    messages: dict[str, tuple[str, str]] = field(default_factory=dict)
    catalogue_folders: list[Path] = field(default_factory=list)
    nav_links: list[NavLink] = field(default_factory=list)
    customer_sections: list[CustomerSection] = field(default_factory=list)
    #: Per form id, the checkers of what is entered on that form (:meth:`check`).
    entry_checks: dict[str, list[EntryChecker]] = field(default_factory=dict)
    search_variables: list[str] = field(default_factory=list)
    start_builders: list[Callable[[Any, str, str | None], Mapping[str, Any]]] = field(
        default_factory=list)
    names: list[str] = field(default_factory=list)
    #: Which documents a customer sees (``document_visibility``); all, without a table.
    visibility: VisibilityTable = field(default_factory=VisibilityTable)
    #: Renderers of generated documents by name (:meth:`renderer`).
    renderers: dict[str, Callable[[bytes], bytes]] = field(default_factory=dict)
    _service_factories: dict[type, Callable[[Services], Any]] = field(default_factory=dict)
    _provided: dict[type, Any] = field(default_factory=dict)

    # -- what an extension calls -------------------------------------------------------

    def topic(self, name: str, handler: Handler) -> None:
        """Run ``handler`` for the service tasks of topic ``name``."""
        self.topic_registry.register(name, handler)

    def roles(self, *names: str) -> None:
        """Roles (candidate groups) users may be given, besides the engine's own."""
        for name in names:
            if name not in self.known_roles:
                self.known_roles.append(name)

    def escalate(self, role: str, to: str) -> None:
        """A task of ``role`` past its due time is reported to role ``to``."""
        self.escalation[role] = to

    def outside(self, *roles: str) -> None:
        """Roles that are not the organisation's own staff (a customer, a laboratory):
        while only they have work, an instance's service clock stands still."""
        self.outside_roles.update(roles)

    def provide(self, value: object) -> None:
        """Make one object (the extension's settings, say) available by its type."""
        self._provided[type(value)] = value

    def service(self, kind: type[T], factory: Callable[[Services], T]) -> None:
        """A service built once per transaction from that transaction's services:
        ``services.get(kind)`` and, in a handler, ``context.service(kind)``."""
        self._service_factories[kind] = factory

    def migrations(self, folder: Path) -> None:
        """An Alembic version folder holding the extension's own tables (a branch of
        its own, rooted on an engine revision through ``depends_on``)."""
        self.migration_folders.append(folder)

    def rest(self, blueprint: Any) -> None:
        """A flask-smorest blueprint, registered on the REST API (and its OpenAPI)."""
        self.rest_blueprints.append(blueprint)

    def pages(self, blueprint: Any) -> None:
        """A Flask blueprint of pages; its templates may extend ``base.html``."""
        self.page_blueprints.append(blueprint)

    def words(self, messages: Mapping[str, tuple[str, str]]) -> None:
        """Page texts as ``key -> (Indonesian, English)``, for an extension with a few
        words; they come before every catalogue."""
        self.messages.update(messages)

    def catalogue(self, folder: Path) -> None:
        """A folder of gettext catalogues, ``<lang>/LC_MESSAGES/<domain>.po`` for the
        languages ``id`` and ``en``: ``messages.po`` holds page words by key,
        ``forms.po`` the English of the extension's forms' Indonesian texts. Compiled
        when the web app starts; they come before the engine's."""
        self.catalogue_folders.append(folder)

    def nav(self, label: str, endpoint: str, *, signed_in: bool = True,
            hint: str | None = None, roles: tuple[str, ...] = ()) -> None:
        """A link in the pages' top bar (``signed_in=False``: for everyone; ``roles``:
        only for those roles and admins)."""
        self.nav_links.append(NavLink(label, endpoint, signed_in, hint, tuple(roles)))

    def search(self, *names: str) -> None:
        """Variables whose words find an instance in the task list and the monitor's
        search, besides its business key and company (a product's name, say)."""
        for name in names:
            if name not in self.search_variables:
                self.search_variables.append(name)

    def customer_section(self, template: str,
                         build: Callable[[Any, Any], Mapping[str, Any]]) -> None:
        self.customer_sections.append(CustomerSection(template, build))

    def check(self, form_id: str, checker: EntryChecker) -> None:
        """Check what is entered on form ``form_id`` (a task's or a message's form)
        against the organisation's own records before anything is stored.

        ``checker`` is given an :class:`Entry` (the submitted values, already checked
        against the form's types, and the instance's variables) and returns field
        key -> message for each field it refuses; any message refuses the whole
        submission (422 naming the fields), and nothing is stored.
        """
        self.entry_checks.setdefault(form_id, []).append(checker)

    def start_variables(self, build: Callable[[Any, str, str | None],
                                              Mapping[str, Any]]) -> None:
        """Variables an instance started by a person begins with.

        ``build(services, process_key, company)`` is called when someone starts an
        instance (REST, engine-rest, the start page); what the starter sends wins
        over what it returns.
        """
        self.start_builders.append(build)

    def document_visibility(self, kinds: Mapping[str, str], *,
                            default: str = INTERNAL) -> None:
        """Which kinds of document (the form field a document was uploaded through,
        or generated under) a customer sees: ``kind -> "customer" | "internal"``,
        ``default`` for the kinds not named. A customer always sees what a customer
        uploaded; staff see everything. One table: a later call adds to it."""
        merged = {**self.visibility.kinds, **kinds}
        self.visibility = VisibilityTable(merged, default)

    def renderer(self, name: str, render: Callable[[bytes], bytes]) -> None:
        """A renderer of generated documents: ``render`` turns the input a command froze
        (``DocumentService.store_pending(instance, name, input, ...)``) into the file's
        bytes. It runs after the command commits, outside any transaction, in whatever
        thread renders (:mod:`engine.documents.rendering`), so it must be thread-safe."""
        if name in self.renderers:
            raise ValueError(f"a renderer named {name!r} is already registered")
        self.renderers[name] = render

    # -- what the engine reads -----------------------------------------------------------

    def provided(self, kind: type[T]) -> T:
        try:
            return self._provided[kind]
        except KeyError:
            raise LookupError(f"no loaded extension provides {kind.__name__}") from None

    def factory(self, kind: type[T]) -> Callable[[Services], T]:
        try:
            return self._service_factories[kind]
        except KeyError:
            raise LookupError(f"no loaded extension provides the service "
                              f"{kind.__name__}") from None


def load(extensions: Iterable[Extension], settings: Settings, topics: TopicRegistry) -> Setup:
    """Let each extension register what it brings, in order; names must be unique."""
    setup = Setup(settings=settings, topic_registry=topics)
    for extension in extensions:
        if extension.name in setup.names:
            raise ValueError(f"the extension '{extension.name}' is loaded twice")
        setup.names.append(extension.name)
        extension.register(setup)
    return setup
