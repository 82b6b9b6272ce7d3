Feature: High availability inside each region and separation between regions
  Disaster recovery starts before a region is lost. Inside each region the
  network, the database and the functions are spread over several
  Availability Zones, so that losing one zone is absorbed without a
  failover. Between regions, the recovery site only protects against a
  regional outage if it is really somewhere else: the secondary database,
  the table replica and the failover target must live in a region other
  than the primary's.

  Background:
    Given the DR stacks as synthesized from this repository

  @DR-HA-01
  Scenario: Each region's VPC has private subnets in three Availability Zones
    When requirement DR-HA-01 is evaluated
    Then the requirement is met with no finding
    And at least 2 resources were evaluated

  @DR-HA-01
  Scenario Outline: Detects: a VPC whose private subnets cover fewer than three zones
    Given the change "<change>" is made to a copy of the stacks
    When requirement DR-HA-01 is evaluated
    Then the requirement fails and names the changed resource

    Examples:
      | change                                        |
      | two subnets moved into one AZ                 |
      | a private subnet made public                  |
      | private subnets routed to an internet gateway |

  @DR-HA-02
  Scenario: Each Aurora cluster has two instances in different zones and a three-zone subnet group
    When requirement DR-HA-02 is evaluated
    Then the requirement is met with no finding
    And at least 2 resources were evaluated

  @DR-HA-02
  Scenario Outline: Detects: a database that one zone failure can take down
    Given the change "<change>" is made to a copy of the stacks
    When requirement DR-HA-02 is evaluated
    Then the requirement fails and names the changed resource

    Examples:
      | change                                   |
      | one Aurora instance removed              |
      | Aurora instances placed in one AZ        |
      | database subnet group reduced to two AZs |

  @DR-HA-03
  Scenario: Each function attached to a VPC runs in at least two zones
    When requirement DR-HA-03 is evaluated
    Then the requirement is met with no finding
    And at least 2 resources were evaluated

  @DR-HA-03
  Scenario Outline: Detects: a function confined to one zone
    Given the change "<change>" is made to a copy of the stacks
    When requirement DR-HA-03 is evaluated
    Then the requirement fails and names the changed resource

    Examples:
      | change                               |
      | function attached to a single subnet |

  @DR-HA-04
  Scenario: The secondary database, the table replica and the failover target are in another region
    When requirement DR-HA-04 is evaluated
    Then the requirement is met with no finding
    And at least 6 resources were evaluated

  @DR-HA-04
  Scenario Outline: Detects: a recovery copy placed in the primary's region
    Given the change "<change>" is made to a copy of the stacks
    When requirement DR-HA-04 is evaluated
    Then the requirement fails and names the changed resource

    Examples:
      | change                                                |
      | secondary region set to the primary's region          |
      | table replica in the table's own region               |
      | secondary failover record aimed at the primary region |
