Feature: The regions, their stacks and their resources are linked by references
  A recovery rebuilds or promotes one region while the other is gone. That
  only works when every link between resources is a reference Terraform
  resolves at deployment time: the secondary database joins the global
  database it is given, the DNS failover watches and routes to the health
  endpoints the regional stacks actually created, each region uses its own
  keys and network, and the stacks deploy in an order that lets each one
  read what it depends on. An identifier pasted from one account or region
  keeps pointing at the old resource after the rebuild, silently.

  Background:
    Given the DR stacks as synthesized from this repository

  @DR-REF-01
  Scenario: No resource refers to another by a literal identifier of the account
    When requirement DR-REF-01 is evaluated
    Then the requirement is met with no finding
    And at least 60 resources were evaluated

  @DR-REF-01
  Scenario Outline: Detects: an identifier typed in instead of a reference
    Given the change "<change>" is made to a copy of the stacks
    When requirement DR-REF-01 is evaluated
    Then the requirement fails and names the changed resource

    Examples:
      | change                                                         |
      | security group named by a literal ID                           |
      | VPC named by a literal ID                                      |
      | secondary cluster joins the global cluster by its literal name |
      | promotion grant on a hard-coded global cluster ARN             |

  @DR-REF-02
  Scenario: The secondary database and the DNS failover reach the other stacks by cross-stack references
    When requirement DR-REF-02 is evaluated
    Then the requirement is met with no finding
    And at least 6 resources were evaluated

  @DR-REF-02
  Scenario Outline: Detects: a link between the regions that is not a reference to the right resource
    Given the change "<change>" is made to a copy of the stacks
    When requirement DR-REF-02 is evaluated
    Then the requirement fails and names the changed resource

    Examples:
      | change                                                                    |
      | health check probes a literal host                                        |
      | primary failover record routed to the secondary region's endpoint         |
      | secondary cluster joins the primary cluster instead of the global cluster |

  @DR-REF-03
  Scenario: The secondary stack follows the primary and the global stack follows both, without a cycle
    When requirement DR-REF-03 is evaluated
    Then the requirement is met with no finding
    And at least 3 resources were evaluated

  @DR-REF-03
  Scenario Outline: Detects: a stack order that cannot deploy the design
    Given the change "<change>" is made to a copy of the stacks
    When requirement DR-REF-03 is evaluated
    Then the requirement fails and names the changed resource

    Examples:
      | change                                          |
      | global stack no longer waits for the secondary  |
      | secondary stack no longer waits for the primary |
      | primary stack waits for the global stack        |

  @DR-REF-04
  Scenario: Every resource uses the keys, subnets and security groups of its own region
    When requirement DR-REF-04 is evaluated
    Then the requirement is met with no finding
    And at least 20 resources were evaluated

  @DR-REF-04
  Scenario Outline: Detects: a resource tied to the other region's key or network
    Given the change "<change>" is made to a copy of the stacks
    When requirement DR-REF-04 is evaluated
    Then the requirement fails and names the changed resource

    Examples:
      | change                                                     |
      | secondary function in the primary region's security group  |
      | secondary database subnets from the primary region         |
      | secondary function environment on the primary region's key |

  @DR-REF-04
  Scenario: A one-stack layout with an aliased provider per region is judged by the region of each provider
    Given the example configuration "references_one_stack.tf.json" written by another team
    When requirement DR-REF-04 is evaluated
    Then the requirement is met with no finding
    And at least 4 resources were evaluated

  @DR-REF-04
  Scenario: Detects: in a one-stack layout, a function of one region wired to the other region's network
    Given the example configuration "references_one_stack_cross_region.tf.json" written by another team
    When requirement DR-REF-04 is evaluated
    Then the requirement fails with a finding on "aws_lambda_function.west_health"

  @DR-REF-03
  Scenario: Stack order does not apply to a one-stack layout
    Given the example configuration "references_one_stack.tf.json" written by another team
    When requirement DR-REF-03 is evaluated
    Then the requirement is not applicable
